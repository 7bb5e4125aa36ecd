"""Reading orders, always through the principal's eyes: another seller's or buyer's order is a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from entrepot.catalog.domain import unit_volume_cm3
from entrepot.catalog.models import Product, Seller, Sku
from entrepot.identity.models import Buyer
from entrepot.inventory.models import Warehouse
from entrepot.kernel.errors import Forbidden, NotFound, not_found
from entrepot.ordering.models import Order, OrderLine, Payment, Refund
from entrepot.organization.models import Market
from entrepot.platform.principal import Principal


def scoped(query: Select[tuple[Order]], principal: Principal) -> Select[tuple[Order]]:
    """The orders a principal may see: a buyer its own, a seller those of its shop, an operator all.
    Any other role (a carrier) sees none: it knows the shipments it carries, not the orders."""
    if principal.role == "buyer":
        return query.where(Order.buyer_id == principal.buyer_id)
    if principal.role == "seller":
        return query.where(Order.seller_id == principal.seller_id)
    if principal.role == "operator":
        return query
    raise Forbidden(f"a {principal.role} key has no access to orders")


def order_by_ref(session: Session, public_id: str) -> Order:
    order = session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None:
        raise NotFound(f"no order {public_id}")
    return order


def get_order(session: Session, public_id: str, principal: Principal, for_update: bool = False) -> Order:
    query = scoped(select(Order).where(Order.public_id == public_id), principal)
    if for_update:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:  # unknown, or another buyer's or seller's: one answer
        raise not_found("order", public_id)
    return order


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None
    market: str | None = None
    seller: str | None = None
    buyer: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None


def list_orders(
    session: Session, principal: Principal, filters: OrderFilter, before_id: int | None, limit: int
) -> list[Order]:
    """Newest first, keyset-paginated on the internal id."""
    query = scoped(select(Order), principal)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.market:
        query = query.join(Market, Market.id == Order.market_id).where(Market.code == filters.market)
    if filters.seller:
        query = query.join(Seller, Seller.id == Order.seller_id).where(Seller.public_id == filters.seller)
    if filters.buyer:
        query = query.join(Buyer, Buyer.id == Order.buyer_id).where(Buyer.public_id == filters.buyer)
    if filters.created_from:
        query = query.where(Order.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Order.created_at < filters.created_to)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    market_code: str
    buyer: str
    seller: str
    lines: list[dict[str, object]]
    payments: list[Payment]
    refunds: list[Refund]


def order_detail(session: Session, order: Order) -> OrderDetail:
    market_code = session.scalar(select(Market.code).where(Market.id == order.market_id))
    buyer = session.scalar(select(Buyer.public_id).where(Buyer.id == order.buyer_id))
    seller = session.scalar(select(Seller.public_id).where(Seller.id == order.seller_id))
    rows = session.execute(
        select(OrderLine, Sku.public_id, Warehouse.public_id)
        .join(Sku, Sku.id == OrderLine.sku_id)
        .join(Warehouse, Warehouse.id == OrderLine.warehouse_id)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.id)
    ).all()
    lines: list[dict[str, object]] = [
        {
            "sku": sku,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
            "line_total_minor": line.line_total_minor,
            "tax_minor": line.tax_minor,
            "commission_rate": str(line.commission_rate),
            "commission_minor": line.commission_minor,
            "warehouse": warehouse,
            "cross_border": line.cross_border,
        }
        for line, sku, warehouse in rows
    ]
    payments = list(session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))
    refunds = list(session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))
    return OrderDetail(order, market_code or "", buyer or "", seller or "", lines, payments, refunds)


@dataclass(frozen=True)
class MarketGmv:
    business_unit_id: int
    market: str
    orders: int
    gmv_usd_minor: int  # every placed order: Alibaba's GMV definition until 2022
    paid_gmv_usd_minor: int  # excluding orders never paid or cancelled


def gmv_by_market(session: Session, start: dt.date, end: dt.date) -> list[MarketGmv]:
    """Merchandise value (order subtotals, taxes included as priced, shipping excluded) in USD at the
    ECB rate of each order's date, for orders dated in [start, end) in their market's time zone."""
    unpaid = Order.status.in_(("placed", "cancelled"))
    rows = session.execute(
        select(
            Market.business_unit_id,
            Market.code,
            func.count(Order.id),
            func.coalesce(func.sum(Order.subtotal_usd_minor), 0),
            func.coalesce(func.sum(case((unpaid, 0), else_=Order.subtotal_usd_minor)), 0),
        )
        .join(Market, Market.id == Order.market_id)
        .where(Order.order_date >= start, Order.order_date < end)
        .group_by(Market.business_unit_id, Market.code)
        .order_by(Market.code)
    ).all()
    return [MarketGmv(*(int(v) if i != 1 else v for i, v in enumerate(r))) for r in rows]


@dataclass(frozen=True)
class ParcelLine:
    hs_code: str
    origin_country: str
    description: str
    quantity: int
    unit_price_minor: int
    weight_g: int  # of the whole line


@dataclass(frozen=True)
class OrderParcel:
    """What one warehouse sends for an order: the goods of the lines allocated to it."""

    warehouse_code: str
    warehouse_country: str
    weight_g: int
    volume_cm3: int
    value_minor: int
    lines: tuple[ParcelLine, ...]


@dataclass(frozen=True)
class OrderForShipping:
    order: Order
    destination_country: str
    buyer_point: tuple[float, float] | None
    parcels: list[OrderParcel]
    market_time_zone: str = "UTC"  # the promised delivery date is a day there


def order_for_shipping(session: Session, order_ref: str) -> OrderForShipping:
    """An order as logistics needs it: where it goes, and one parcel per allocated warehouse."""
    order = order_by_ref(session, order_ref)
    market = session.get(Market, order.market_id)
    buyer = session.get(Buyer, order.buyer_id)
    assert market is not None and buyer is not None
    rows = session.execute(
        select(
            OrderLine,
            Sku,
            Product.hs_code,
            Product.origin_country,
            Product.title,
            Warehouse.code,
            Warehouse.country,
        )
        .join(Sku, Sku.id == OrderLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .join(Warehouse, Warehouse.id == OrderLine.warehouse_id)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.id)
    ).all()
    grouped: dict[str, list[tuple[OrderLine, Sku, str, str, str, str]]] = {}
    for line, sku, hs_code, origin, title, code, country in rows:
        grouped.setdefault(code, []).append((line, sku, hs_code, origin, title, country))
    parcels = [_parcel(code, items) for code, items in grouped.items()]
    point = (
        (buyer.latitude, buyer.longitude)
        if buyer.latitude is not None and buyer.longitude is not None
        else None
    )
    return OrderForShipping(order, market.country, point, parcels, market.time_zone)


def _parcel(code: str, items: list[tuple[OrderLine, Sku, str, str, str, str]]) -> OrderParcel:
    lines = tuple(
        ParcelLine(hs_code, origin, title, line.quantity, line.unit_price_minor, sku.weight_g * line.quantity)
        for line, sku, hs_code, origin, title, _ in items
    )
    return OrderParcel(
        warehouse_code=code,
        warehouse_country=items[0][5],
        weight_g=sum(sku.weight_g * line.quantity for line, sku, *_ in items),
        volume_cm3=sum(
            unit_volume_cm3(sku.length_mm, sku.width_mm, sku.height_mm) * line.quantity
            for line, sku, *_ in items
        ),
        value_minor=sum(line.line_total_minor for line, *_ in items),
        lines=lines,
    )
