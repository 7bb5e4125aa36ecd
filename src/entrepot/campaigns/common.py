"""What every kind of campaign shares (flash sales, group buys; a livestream drop is a flash sale): its
header (the market and SKU it sells, the units it sets aside, its window), as columns and as the rule
that fills them. Flash sales and group buys share code only here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from entrepot.catalog import service as catalog
from entrepot.catalog.service import PricedSku
from entrepot.inventory import hot_stock
from entrepot.kernel.errors import FieldError, Forbidden, ValidationFailed
from entrepot.organization import service as organization
from entrepot.organization.service import MarketView
from entrepot.platform.db import BigId, UtcDateTime
from entrepot.platform.principal import Principal


class CampaignHeader:
    """The columns every campaign's row has (mixed into FlashSale and GroupBuy): what it sells, where,
    out of which warehouse's stock, for how many units, and when."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    sku_ref: Mapped[str] = mapped_column(String(40))  # public ids, so reads need no other context's table
    market_ref: Mapped[str] = mapped_column(String(64))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


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


@dataclass(frozen=True)
class Window:
    """How many units a campaign sells, and when."""

    stock: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def open_header(
    session: Session, target: CampaignSku, sku_ref: str, public_id: str, window: Window, now: dt.datetime
) -> dict[str, Any]:
    """Take the campaign's units out of a warehouse's stock (one reservation named after the campaign)
    and give its header's columns, for the campaign's row."""
    warehouse_id = hot_stock.allocate_to_sale(
        session, target.sku.sku_id, window.stock, public_id, target.market.country, now
    )
    return {
        "public_id": public_id,
        "sku_id": target.sku.sku_id,
        "sku_ref": sku_ref,
        "market_ref": target.market.code,
        "seller_id": target.sku.seller_id,
        "warehouse_id": warehouse_id,
        "currency": target.market.currency,
        "stock": window.stock,
        "sold": 0,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "created_at": now,
    }
