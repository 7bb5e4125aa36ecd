"""Use cases of identity: buyers, API keys, and authenticating a request's key."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, Select, func, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.identity.domain import KEY_PREFIX, generate_key, secret_matches, split_key
from entrepot.identity.models import ApiKey, Buyer
from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import FieldError, Unauthenticated, ValidationFailed, not_found
from entrepot.kernel.ids import new_id
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, in_list
from entrepot.platform.principal import ROLES, Principal


def create_buyer(
    session: Session,
    name: str,
    country: str,
    now: dt.datetime,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Buyer:
    if (bad_country := country_error(country)) is not None:
        raise ValidationFailed("invalid buyer", [bad_country])
    if (latitude is None) != (longitude is None):
        raise ValidationFailed("invalid buyer", [FieldError("latitude", "give both latitude and longitude")])
    buyer = Buyer(
        public_id=new_id("buy"),
        name=name,
        country=country,
        latitude=latitude,
        longitude=longitude,
        created_at=now,
    )
    session.add(buyer)
    session.flush()
    audit.record(session, "buyer.created", buyer.public_id, None, {"name": name, "country": country}, now)
    return buyer


def get_buyer(session: Session, public_id: str) -> Buyer:
    return by_public_id(session, Buyer, public_id, "buyer")


def create_api_key(
    session: Session,
    role: str,
    name: str,
    now: dt.datetime,
    seller_public_id: str | None = None,
    buyer_public_id: str | None = None,
    carrier: str | None = None,
    carriers: Callable[[Session], Collection[str]] = lambda _: (),
) -> tuple[ApiKey, str]:
    """Returns the stored key and its plaintext, which is shown once and never stored. A carrier key is
    made only for a carrier `carriers` knows: those the logistics network's lanes name (identity knows
    no lanes; the caller hands over logistics' `carriers`, and by default no carrier is known)."""
    if role not in ROLES:
        raise ValidationFailed("invalid key", [FieldError("role", f"must be one of {', '.join(ROLES)}")])
    carrier = carrier.strip() if carrier else None
    wrong_owner = owner_errors(role, seller_public_id, buyer_public_id, carrier)
    if wrong_owner:
        raise ValidationFailed("invalid key owner", wrong_owner)
    if carrier is not None:
        refuse_unknown_carrier(carrier, carriers(session))
    seller_id = catalog.seller_id_of(session, seller_public_id) if seller_public_id else None
    buyer_id = get_buyer(session, buyer_public_id).id if buyer_public_id else None
    new_key = generate_key()
    key = ApiKey(
        public_id=new_id("key"),
        prefix=new_key.prefix,
        secret_hash=new_key.secret_hash,
        role=role,
        seller_id=seller_id,
        buyer_id=buyer_id,
        carrier=carrier,
        name=name,
        created_at=now,
    )
    session.add(key)
    session.flush()
    # who holds the key, never its secret
    owner = {
        "role": role,
        "name": name,
        "seller": seller_public_id,
        "buyer": buyer_public_id,
        "carrier": carrier,
    }
    audit.record(session, "api_key.created", key.public_id, None, owner, now)
    return key, new_key.plaintext


def owner_errors(role: str, seller: str | None, buyer: str | None, carrier: str | None) -> list[FieldError]:
    """Each role names exactly its own kind of owner: a seller, a buyer, a carrier, or none (operators)."""
    errors = []
    owners = (("seller_id", "seller", seller), ("buyer_id", "buyer", buyer), ("carrier", "carrier", carrier))
    for field, kind, given in owners:
        if bool(given) != (role == kind):
            errors.append(FieldError(field, f"required for {kind} keys only"))
    if carrier is not None and len(carrier) > 64:
        errors.append(FieldError("carrier", "at most 64 characters"))
    return errors


def refuse_unknown_carrier(carrier: str, known: Collection[str]) -> None:
    """A key for a carrier no lane names would post scans for no shipment: a typo, refused."""
    if carrier in known:
        return
    if not known:
        message = "no lane names a carrier yet: load the network first (entrepot logistics seed)"
    else:
        shown = sorted(known)
        more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
        message = f"no lane names carrier {carrier!r}; known carriers: {', '.join(shown[:20])}{more}"
    raise ValidationFailed(f"unknown carrier {carrier!r}", [FieldError("carrier", message)])


def revoke_api_key(session: Session, public_id: str, now: dt.datetime) -> None:
    key = by_public_id(session, ApiKey, public_id, "API key")
    if key.revoked_at is None:
        audit.record(
            session, "api_key.revoked", key.public_id, {"revoked_at": None}, {"revoked_at": now}, now
        )
    key.revoked_at = key.revoked_at or now
    forget_verified_keys()


def forget_verified_keys() -> None:
    """Forget every key verified so far in this process: the next call verifies it against the database again
    (a process that points at another database, as a test run does, must not trust the last one's keys)."""
    _cache.clear()


def cached_principal(raw_key: str | None, cache_seconds: float) -> Principal | None:
    return _cache.get(raw_key, cache_seconds) if raw_key else None


def authenticate(session: Session, raw_key: str | None, cache_seconds: float) -> Principal:
    if not raw_key:
        raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
    cached = _cache.get(raw_key, cache_seconds)
    if cached is not None:
        return cached
    principal = _load_principal(session, raw_key)
    _cache.put(raw_key, principal)
    return principal


def _load_principal(session: Session, raw_key: str) -> Principal:
    parts = split_key(raw_key)
    if parts is None:
        raise Unauthenticated("malformed API key")
    prefix, secret = parts
    row = session.execute(
        select(ApiKey, catalog.seller_public_id(ApiKey.seller_id), Buyer)
        .outerjoin(Buyer, Buyer.id == ApiKey.buyer_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    if row is None or row[0].revoked_at is not None or not secret_matches(secret, row[0].secret_hash):
        raise Unauthenticated("invalid or revoked API key")
    key, seller_public_id, buyer = row
    if buyer is not None:
        return principal_for_buyer(buyer, key.public_id)
    return Principal(key.role, key.public_id, key.seller_id, seller_public_id, carrier=key.carrier)


def principal_for_buyer(buyer: Buyer, key_id: str) -> Principal:
    return Principal(
        "buyer",
        key_id,
        buyer_id=buyer.id,
        buyer_public_id=buyer.public_id,
        country=buyer.country,
        latitude=buyer.latitude,
        longitude=buyer.longitude,
    )


class _PrincipalCache:
    """Verified keys for a few seconds, so a hot API does not query the key table on every call.

    Revocation therefore takes effect within ENTREPOT_API_KEY_CACHE_SECONDS in other processes.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, raw_key: str, ttl: float) -> Principal | None:
        entry = self._entries.get(raw_key)
        if entry is None or time.monotonic() - entry[0] > ttl:
            return None
        return entry[1]

    def put(self, raw_key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[raw_key] = (time.monotonic(), principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _PrincipalCache()


# For other contexts' reads: a buyer's public id inside their statements, and its delivery point.


def buyer_public_id(buyer_id_column: ColumnExpressionArgument[int | None]) -> ScalarSelect[str]:
    """The public id of the buyer `buyer_id_column` refers to, as an expression for another context's
    query (a page of orders, say), so that the page stays one statement."""
    return select(Buyer.public_id).where(Buyer.id == buyer_id_column).scalar_subquery()


def buyer_id_with_public_id(public_id: str) -> ScalarSelect[int]:
    """The id of the buyer with this public id (NULL when there is none), for another context's filter."""
    return select(Buyer.id).where(Buyer.public_id == public_id).scalar_subquery()


def delivery_point(session: Session, buyer_id: int) -> tuple[float, float] | None:
    """The buyer's default delivery point (latitude, longitude), if it gave one."""
    return delivery_points(session, [buyer_id])[buyer_id]


def delivery_points(session: Session, buyer_ids: Collection[int]) -> dict[int, tuple[float, float] | None]:
    """`delivery_point` of many buyers in one read (a batch of orders to ship); an unknown id raises."""
    rows = session.execute(
        select(Buyer.id, Buyer.latitude, Buyer.longitude).where(
            in_list(session, Buyer.id, list(set(buyer_ids)))
        )
    )
    found = {
        row.id: None if row.latitude is None or row.longitude is None else (row.latitude, row.longitude)
        for row in rows
    }
    missing = set(buyer_ids) - found.keys()
    if missing:
        raise LookupError(f"no buyer with id {min(missing)}")  # ids come from orders: a broken reference
    return found


@dataclass(frozen=True, slots=True)
class KeyView:
    """An API key as a list shows it: its prefix (how a person tells keys apart), never its secret or
    the secret's hash."""

    row_id: int
    public_id: str
    prefix: str
    role: str
    name: str
    owner: str | None  # the seller's or buyer's public id, or the carrier
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def start(self) -> str:
        """How the key's plaintext begins (`ek_<prefix>`): what its holder can match it by."""
        return f"{KEY_PREFIX}_{self.prefix}"


def _key_views() -> Select[int, str, str, str, str, str | None, dt.datetime, dt.datetime | None]:
    owner = func.coalesce(
        catalog.seller_public_id(ApiKey.seller_id), buyer_public_id(ApiKey.buyer_id), ApiKey.carrier
    )
    return select(
        ApiKey.id,
        ApiKey.public_id,
        ApiKey.prefix,
        ApiKey.role,
        ApiKey.name,
        owner,
        ApiKey.created_at,
        ApiKey.revoked_at,
    )


def list_api_keys(session: Session, after: int | None, limit: int) -> list[KeyView]:
    """A page of API keys, newest first (keyset on the internal id, before `after`), in one query."""
    query = _key_views().order_by(ApiKey.id.desc()).limit(limit)
    if after is not None:
        query = query.where(ApiKey.id < after)
    return [KeyView(*row) for row in session.execute(query)]


def get_api_key(session: Session, public_id: str) -> KeyView:
    row = session.execute(_key_views().where(ApiKey.public_id == public_id)).first()
    if row is None:
        raise not_found("API key", public_id)
    return KeyView(*row)
