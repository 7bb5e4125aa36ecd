"""Pure rules of inventory: stock arithmetic that can never go negative, and warehouse allocation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from entrepot.kernel.errors import InsufficientStock, ValidationFailed

EARTH_RADIUS_KM = 6371.0088
# The most units one stock level or one sale may hold: beyond it a number is a typo, not stock.
MAX_STOCK_UNITS = 100_000_000


@dataclass(frozen=True)
class StockLevel:
    """The model the database's conditional updates implement; property tests hold both to it."""

    on_hand: int
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def reserve(self, quantity: int) -> StockLevel:
        _positive(quantity)
        if quantity > self.available:
            raise InsufficientStock(f"only {self.available} available, {quantity} requested")
        return StockLevel(self.on_hand, self.reserved + quantity)

    def confirm(self, quantity: int) -> StockLevel:
        """A paid reservation leaves the shelf: on hand and reserved both drop."""
        _positive(quantity)
        if quantity > self.reserved:
            raise ValueError("cannot confirm more than is reserved")
        return StockLevel(self.on_hand - quantity, self.reserved - quantity)

    def release(self, quantity: int) -> StockLevel:
        _positive(quantity)
        if quantity > self.reserved:
            raise ValueError("cannot release more than is reserved")
        return StockLevel(self.on_hand, self.reserved - quantity)


def _positive(quantity: int) -> None:
    if quantity <= 0:
        raise ValidationFailed(f"quantity must be positive, got {quantity}")


@dataclass(frozen=True)
class Candidate:
    stock_id: int
    sku_id: int
    warehouse_id: int
    warehouse_public_id: str
    country: str
    latitude: float
    longitude: float
    available: int
    warehouse_code: str  # the logistics network's name for it, which delivery options are asked by


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def rank_for_line(
    candidates: list[Candidate],
    quantity: int,
    buyer_country: str,
    buyer_point: tuple[float, float] | None,
) -> list[Candidate]:
    """Warehouses that can fulfil the whole line: the buyer's country first, then the nearest.

    Without a delivery point, ties go to the warehouse with the most available stock, which spreads
    load and keeps the last units of a small warehouse for buyers close to it.
    """
    able = [c for c in candidates if c.available >= quantity]

    def key(c: Candidate) -> tuple[bool, float, int]:
        distance = great_circle_km(c.latitude, c.longitude, *buyer_point) if buyer_point else 0.0
        return (c.country != buyer_country, distance, -c.available)

    return sorted(able, key=key)
