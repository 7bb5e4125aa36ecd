"""Who a request acts as, and what that lets it see: the one type every context's rules are given."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from entrepot.kernel.errors import Forbidden

ROLES = ("operator", "seller", "buyer", "carrier")


@dataclass(frozen=True)
class Principal:
    role: str
    key_id: str
    seller_id: int | None = None
    seller_public_id: str | None = None
    buyer_id: int | None = None
    buyer_public_id: str | None = None
    # A buyer's delivery point, which allocation needs on every checkout: loaded with the key.
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    carrier: str | None = None  # a carrier key's carrier (as lanes name it): whose scans it may post

    @property
    def delivery_point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    @property
    def subject(self) -> str:
        """Whom idempotency keys and ownership are scoped to."""
        return self.buyer_public_id or self.seller_public_id or self.key_id

    def sees(
        self, seller_id: int | None = None, buyer_id: int | None = None, carriers: Collection[str] = ()
    ) -> bool:
        """Whether a thing of this seller, of this buyer or carried by these carriers is this principal's
        to see: an operator sees all, anyone else only what names it. A thing it may not see is answered
        as an unknown one (kernel.errors.not_found), never with a 403 that would tell it exists."""
        if self.is_operator:
            return True
        if self.role == "seller":
            return seller_id is not None and seller_id == self.seller_id
        if self.role == "buyer":
            return buyer_id is not None and buyer_id == self.buyer_id
        return self.role == "carrier" and self.carrier is not None and self.carrier in carriers

    def require(self, *roles: str) -> None:
        """A 403 for a role that may never use a route, decided before any id is looked up, so that it
        is the same for every id, known or not."""
        if self.role not in roles:
            names = ", ".join(roles[:-1]) + " or " + roles[-1] if len(roles) > 1 else roles[0]
            raise Forbidden(f"this needs a{'n' if names[0] in 'aeiou' else ''} {names} key")
