"""The rules of outbound webhooks, pure: which events may be subscribed to and by whom, which URLs may
receive them, how a message is signed, and when a failed delivery is tried again.

Signing follows the Standard Webhooks specification through its own library (`standardwebhooks`):
`webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the key a `whsec_` secret
encodes; during a rotation the header carries one signature per live secret, separated by spaces, so a
receiver holding either secret verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.logistics.tracking import CUSTODY_TYPES
from entrepot.logistics.tracking import EVENT_TYPES as SCAN_TYPES
from entrepot.ordering.domain import TRANSITIONS

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit keys: the spec asks for 24 to 64 bytes
NOTICE_DISABLED = "webhook_subscription.disabled"

# The events a seller may hear about, by whose aggregate names the seller: an order (its own events and
# its parcels' milestones), a flash order or a flash sale, a shipment. Everything else is the group's.
ORDER_EVENTS = frozenset(
    {
        "order.placed",
        "order.paid",
        "order.cancelled",
        "order.refunded",
        "delivery.started",
        "delivery.completed",
    }
    | {f"order.{status}" for moves in TRANSITIONS.values() for status in moves.values()}
)
FLASH_ORDER_EVENTS = frozenset({"flash_order.reserved", "flash_order.expired"})
FLASH_SALE_EVENTS = frozenset({"flash_orders.paid"})  # its aggregate is the sale whose orders were paid
SHIPMENT_EVENTS = frozenset(
    {"shipment.planned"} | {f"shipment.{status}" for status in SCAN_TYPES if status not in CUSTODY_TYPES}
)
SELLER_EVENTS = ORDER_EVENTS | FLASH_ORDER_EVENTS | FLASH_SALE_EVENTS | SHIPMENT_EVENTS
GROUP_EVENTS = frozenset(
    {
        "seller.created",
        "fx.rates_loaded",
        "org.unit_created",
        "org.unit_moved",
        "org.unit_closed",
        "org.move_revised",
        "group_team.completed",
        "group_team.failed",
        "emissions.recomputed",
        NOTICE_DISABLED,
    }
)
EVENT_TYPES = SELLER_EVENTS | GROUP_EVENTS


def check_event_types(wanted: Iterable[str], is_operator: bool) -> list[str]:
    """The event types asked for, sorted and without repeats; a 422 naming each unknown one, and each one
    a seller may not hear about (another seller's orders are never at stake: the seller's own are the
    only ones it is sent)."""
    types = sorted(set(wanted))
    allowed = EVENT_TYPES if is_operator else SELLER_EVENTS
    errors = [
        FieldError(
            "event_types", f"{t!r} is {'not an event type' if t not in EVENT_TYPES else 'an operator event'}"
        )
        for t in types
        if t not in allowed
    ]
    if not types:
        errors.append(FieldError("event_types", "at least one event type"))
    if errors:
        raise ValidationFailed("invalid event types", errors)
    return types


# --- where deliveries may go ------------------------------------------------------------------------

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def check_url(url: str, allow_private: bool) -> str:
    """An http(s) URL with a host, no credentials and no fragment; unless `allow_private`, not a
    private, loopback, link-local or otherwise internal address. Why: the URL is typed by a seller, and
    the worker calls it from inside the group's network; without this, a subscription would let anyone
    probe or call internal services (server-side request forgery). Tests and local trials turn it off."""
    parts = urlsplit(url.strip())
    problem = _url_problem(parts.scheme, parts.hostname, parts.username, parts.fragment, len(url))
    if problem is None and not allow_private:
        problem = private_host_problem(parts.hostname or "")
    if problem is not None:
        raise ValidationFailed(f"invalid webhook URL: {problem}", [FieldError("url", problem)])
    return url.strip()


def _url_problem(scheme: str, host: str | None, user: str | None, fragment: str, length: int) -> str | None:
    if length > 2000:
        return "at most 2000 characters"
    if scheme not in ("https", "http"):
        return "must start with https:// or http://"
    if not host:
        return "must name a host"
    if user is not None:
        return "must not carry a user name or password"
    if fragment:
        return "must not have a #fragment"
    return None


def private_host_problem(host: str) -> str | None:
    """Why `host` may not be called (a local name or an internal address), else None."""
    name = host.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None  # a name: its addresses are checked when the worker resolves it
    return internal_address_problem(address)


def internal_address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if not address.is_global or address.is_multicast:
        return f"{address} is a private, loopback, link-local or reserved address"
    return None


# --- signing ----------------------------------------------------------------------------------------


def new_secret(key: bytes) -> str:
    """A `whsec_` secret: the prefix and the base64 of a random key (the caller draws the bytes)."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def signature_header(secrets: Iterable[str], message_id: str, timestamp: dt.datetime, body: bytes) -> str:
    """`webhook-signature`: one `v1,...` per secret, space separated (the spec's several signatures)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)


def headers(
    secrets: Iterable[str],
    message_id: str,
    timestamp: dt.datetime,
    body: bytes,
    request_id: str | None = None,
) -> dict[str, str]:
    """The spec's three headers; and, outside what is signed, the id of the request whose change the
    event records, so that a receiver's log and ours meet on it."""
    sent = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }
    if request_id:
        sent["entrepot-request-id"] = request_id
    return sent


def live_secrets(
    secret: str, previous: str | None, previous_until: dt.datetime | None, now: dt.datetime
) -> list[str]:
    """The current secret, and the one being retired while its overlap window lasts."""
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


def message_body(
    event_type: str, event_id: str, aggregate_id: str, payload: Mapping[str, Any], at: dt.datetime
) -> str:
    """The JSON sent, in the spec's recommended shape: type, timestamp and data (compact, keys sorted,
    so a replay sends the same bytes)."""
    data = {"id": aggregate_id, "event": event_id, **payload}
    body = {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


# --- retries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff with jitter: the n-th failure waits base x 2^(n-1), capped, times a random
    factor in [1 - jitter, 1 + jitter] (so endpoints that failed together do not all come back together).
    With the defaults (10 s, capped at 4 h, 17 attempts) the 16 waits add up to about 25.7 hours, between
    19 and 32 with the jitter: about a day, after which the delivery is marked failed."""

    base_seconds: float = 10.0
    cap_seconds: float = 4 * 3600.0
    max_attempts: int = 17
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds or self.max_attempts < 1:
            raise ValueError(
                "the backoff must be positive, its cap at least the base, and one attempt at least"
            )
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def nominal(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 60)
        return min(self.base_seconds * 2.0**exponent, self.cap_seconds)

    def delay(self, attempts: int, rng: random.Random) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt."""
        factor = 1.0 + rng.uniform(-self.jitter, self.jitter)
        return dt.timedelta(seconds=self.nominal(attempts) * factor)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def succeeded(status_code: int) -> bool:
    """The spec: any 2xx is a success; everything else (3xx too: redirects are not followed) a failure."""
    return 200 <= status_code < 300


def excerpt(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
