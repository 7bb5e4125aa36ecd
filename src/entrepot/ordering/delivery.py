"""Delivery at checkout: pack the allocated lines into parcels (one per warehouse) and ask the
shipping-rates port for the delivery options of the basket."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from entrepot.catalog.service import PricedSku
from entrepot.inventory.domain import Candidate
from entrepot.ordering.domain import MarketTerms, zone_fee
from entrepot.ordering.shipping import DeliveryOption, ParcelToShip, RateRequest, ShippingRates, mark
from entrepot.organization.service import MarketView
from entrepot.platform.principal import Principal


def parcels_to_ship(
    terms: MarketTerms,
    skus: dict[str, PricedSku],
    lines: list[tuple[str, int]],
    chosen: list[Candidate],
) -> tuple[ParcelToShip, ...]:
    """One parcel per warehouse, in the order the warehouses first appear in the lines (the order
    `price_quote` lists its parcels in)."""
    packed: dict[int, list[int]] = {}  # warehouse id -> [weight g, volume cm3, value minor]
    warehouse_of: dict[int, Candidate] = {}
    for (sku, quantity), candidate in zip(lines, chosen, strict=True):
        unit = skus[sku]
        totals = packed.setdefault(candidate.warehouse_id, [0, 0, 0])
        totals[0] += unit.weight_g * quantity
        totals[1] += unit.volume_cm3 * quantity
        totals[2] += unit.unit_price_minor * quantity
        warehouse_of[candidate.warehouse_id] = candidate
    return tuple(
        ParcelToShip(
            warehouse_of[warehouse_id].warehouse_code,
            warehouse_of[warehouse_id].country,
            max(1, weight),
            volume,
            value,
            zone_fee(terms, warehouse_of[warehouse_id].country),
        )
        for warehouse_id, (weight, volume, value) in packed.items()
    )


def delivery_options(
    session: Session,
    rates: ShippingRates,
    market: MarketView,
    principal: Principal,
    parcels: tuple[ParcelToShip, ...],
    now: dt.datetime,
) -> list[DeliveryOption]:
    request = RateRequest(
        market.currency, market.time_zone, market.country, principal.delivery_point, parcels, now
    )
    return mark(rates.options(session, request))
