"""What every kind of campaign shares (flash sales, group buys; a livestream drop is a flash sale): the
market and SKU it sells and the units it sets aside. Flash sales and group buys share code only here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.service import PricedSku
from entrepot.inventory import hot_stock
from entrepot.kernel.errors import FieldError, Forbidden, ValidationFailed
from entrepot.organization import service as organization
from entrepot.organization.service import MarketView
from entrepot.platform.principal import Principal


@dataclass(frozen=True)
class CampaignSku:
    """The market and the priced SKU a campaign sells."""

    market: MarketView
    sku: PricedSku


def campaign_sku(
    session: Session, principal: Principal, market_code: str, sku: str, campaigns: str
) -> CampaignSku:
    """The market and the priced SKU a campaign sells: sellers run campaigns on their own SKUs,
    operators on any; buyers on none. `campaigns` names the kind in the refusal ("flash sales")."""
    if principal.role not in ("seller", "operator"):
        raise Forbidden(f"{campaigns} are created by the seller or an operator")
    market = organization.get_market(session, market_code)
    priced = catalog.priced_skus(session, market.id, [sku]).get(sku)
    if priced is None or (principal.role == "seller" and priced.seller_id != principal.seller_id):
        raise ValidationFailed(
            "unknown SKU", [FieldError("sku", f"no SKU {sku} of yours is sold in {market.code}")]
        )
    return CampaignSku(market, priced)


def set_aside(session: Session, target: CampaignSku, stock: int, campaign_ref: str, now: dt.datetime) -> int:
    """Take the campaign's `stock` units out of a warehouse's stock (one reservation named after the
    campaign); the warehouse's id."""
    return hot_stock.allocate_to_sale(
        session, target.sku.sku_id, stock, campaign_ref, target.market.country, now
    )
