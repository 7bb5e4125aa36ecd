"""Reading orders, always through the principal's eyes: another seller's or buyer's order is a 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import unit_volume_cm3
from entrepot.identity import service as identity
from entrepot.inventory import service as inventory
from entrepot.kernel.errors import Forbidden, not_found
from entrepot.ordering.models import Cart, CartLine, Order, OrderLine, Payment, Refund
from entrepot.organization import service as organization
from entrepot.platform.db import OutboxEvent, by_public_id, in_list
from entrepot.platform.principal import Principal


def scoped(query: Select[Order], principal: Principal) -> Select[Order]:
    """The orders a principal may see: a buyer its own, a seller those of its shop, an operator all.
    Any other role (a carrier) sees none: it knows the shipments it carries, not the orders."""
    scope = _scope(principal)
    return query if scope is None else query.where(scope)


def _scope(principal: Principal) -> ColumnElement[bool] | None:
    """`scoped`'s condition: None for an operator (all orders), a 403 for a role that sees none."""
    if principal.role == "buyer":
        return Order.buyer_id == principal.buyer_id
    if principal.role == "seller":
        return Order.seller_id == principal.seller_id
    if principal.role == "operator":
        return None
    raise Forbidden(f"a {principal.role} key has no access to orders")


def order_by_ref(session: Session, public_id: str) -> Order:
    return by_public_id(session, Order, public_id, "order")


def get_order(session: Session, public_id: str, principal: Principal, for_update: bool = False) -> Order:
    # unknown, or another buyer's or seller's: one answer
    return by_public_id(session, Order, public_id, "order", lock=for_update, where=_scope(principal))


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
    """Newest first, keyset-paginated on the internal id. One statement: a filter on a market, seller
    or buyer compares with the id their context finds for the code (none: no order matches)."""
    query = scoped(select(Order), principal)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.market:
        query = query.where(Order.market_id == organization.market_id_with_code(filters.market))
    if filters.seller:
        query = query.where(Order.seller_id == catalog.seller_id_with_public_id(filters.seller))
    if filters.buyer:
        query = query.where(Order.buyer_id == identity.buyer_id_with_public_id(filters.buyer))
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
    return order_details(session, [order])[0]


def sellers_and_markets(session: Session, order_refs: Collection[str]) -> dict[str, tuple[str, str]]:
    """Each order's seller (public id) and market code, for a batch of orders in one statement (what
    emissions files a shipment under); an unknown ref is a 404, as for one order."""
    found = {
        ref: (seller or "", market or "")
        for ref, seller, market in session.execute(
            select(
                Order.public_id,
                catalog.seller_public_id(Order.seller_id),
                organization.market_code(Order.market_id),
            ).where(in_list(session, Order.public_id, list(set(order_refs))))
        )
    }
    _refuse_missing(order_refs, found)
    return found


def _refuse_missing(order_refs: Collection[str], found: Collection[str]) -> None:
    """A batch read's 404, the one a single order's read gives, for the first ref it did not find."""
    missing = next((ref for ref in order_refs if ref not in found), None)
    if missing is not None:
        raise not_found("order", missing)


def order_details(session: Session, orders: list[Order]) -> list[OrderDetail]:
    """The details of a page of orders in four statements, however many orders and lines it holds:
    the references other contexts own (market code, buyer, seller, SKU and warehouse ids) come from
    expressions those contexts provide, inside these statements."""
    if not orders:
        return []
    ids = [o.id for o in orders]
    refs = {
        order_id: (market or "", buyer or "", seller or "")
        for order_id, market, buyer, seller in session.execute(
            select(
                Order.id,
                organization.market_code(Order.market_id),
                identity.buyer_public_id(Order.buyer_id),
                catalog.seller_public_id(Order.seller_id),
            ).where(Order.id.in_(ids))
        )
    }
    lines: dict[int, list[dict[str, object]]] = {order_id: [] for order_id in ids}
    for line, sku, warehouse in session.execute(
        select(
            OrderLine,
            catalog.sku_public_id(OrderLine.sku_id),
            inventory.warehouse_public_id(OrderLine.warehouse_id),
        )
        .where(OrderLine.order_id.in_(ids))
        .order_by(OrderLine.id)
    ):
        lines[line.order_id].append(_line_out(line, sku, warehouse))
    payments: dict[int, list[Payment]] = {order_id: [] for order_id in ids}
    for payment in session.scalars(select(Payment).where(Payment.order_id.in_(ids)).order_by(Payment.id)):
        payments[payment.order_id].append(payment)
    refunds: dict[int, list[Refund]] = {order_id: [] for order_id in ids}
    for refund in session.scalars(select(Refund).where(Refund.order_id.in_(ids)).order_by(Refund.id)):
        refunds[refund.order_id].append(refund)
    return [
        OrderDetail(o, *refs.get(o.id, ("", "", "")), lines[o.id], payments[o.id], refunds[o.id])
        for o in orders
    ]


def _line_out(line: OrderLine, sku: str | None, warehouse: str | None) -> dict[str, object]:
    return {
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


@dataclass(frozen=True)
class CartContents:
    market: str
    lines: list[tuple[str, int]]  # (SKU public id, quantity), in the order they were added


def cart_contents(session: Session, carts: list[Cart]) -> dict[int, CartContents]:
    """What a page of carts holds, in two statements however many carts and lines: their markets'
    codes, and their lines (as `carts.cart_lines` orders one cart's)."""
    if not carts:
        return {}
    ids = [c.id for c in carts]
    contents = {
        cart_id: CartContents(market or "", [])
        for cart_id, market in session.execute(
            select(Cart.id, organization.market_code(Cart.market_id)).where(Cart.id.in_(ids))
        )
    }
    sku = catalog.sku_public_id(CartLine.sku_id).label("sku")
    for cart_id, ref, quantity in session.execute(
        select(CartLine.cart_id, sku, CartLine.quantity)
        .where(CartLine.cart_id.in_(ids))
        .order_by(CartLine.cart_id, CartLine.added_at, sku)
    ):
        contents[cart_id].lines.append((ref, quantity))
    return contents


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
            Order.market_id,
            func.count(Order.id),
            func.coalesce(func.sum(Order.subtotal_usd_minor), 0),
            func.coalesce(func.sum(case((unpaid, 0), else_=Order.subtotal_usd_minor)), 0),
        )
        .where(Order.order_date >= start, Order.order_date < end)
        .group_by(Order.market_id)
    ).all()
    markets = organization.markets_by_ids(session, [r[0] for r in rows])
    found = [
        MarketGmv(markets[m].business_unit_id, markets[m].code, int(n), int(gmv), int(paid))
        for m, n, gmv, paid in rows
    ]
    return sorted(found, key=lambda g: g.market)


def orders_per_minute(session: Session, now: dt.datetime, minutes: int) -> float:
    """Orders placed in the `minutes` before `now`, a minute on average (through the created_at index)."""
    since = now - dt.timedelta(minutes=minutes)
    placed = session.scalar(
        select(func.count(Order.id)).where(Order.created_at > since, Order.created_at <= now)
    )
    return int(placed or 0) / minutes


def last_order_date(session: Session) -> dt.date | None:
    """The newest order's date (in its market's time zone), through the index on order_date."""
    return session.scalar(select(func.max(Order.order_date)))


@dataclass(frozen=True)
class PaymentOutcomes:
    """Payments started in a window, by how the provider decided them."""

    succeeded: int
    failed: int
    pending: int

    @property
    def success_rate(self) -> float | None:
        """Succeeded among those decided (pending ones are not yet a success or a failure); None when
        none is decided yet. A ratio shown to a person, not money: a float is right here."""
        decided = self.succeeded + self.failed
        return self.succeeded / decided if decided else None


def payment_outcomes(session: Session, start: dt.date, end: dt.date) -> PaymentOutcomes:
    """How the payments of orders dated in [start, end) (in their market's time zone, as the GMV
    figures count them) stand, in one grouped statement."""
    counts: dict[str, int] = {
        status: int(count)
        for status, count in session.execute(
            select(Payment.status, func.count(Payment.id))
            .join(Order, Order.id == Payment.order_id)
            .where(Order.order_date >= start, Order.order_date < end)
            .group_by(Payment.status)
        )
    }
    return PaymentOutcomes(counts.get("succeeded", 0), counts.get("failed", 0), counts.get("pending", 0))


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
    return orders_for_shipping(session, [order_ref])[order_ref]


def orders_for_shipping(session: Session, order_refs: Collection[str]) -> dict[str, OrderForShipping]:
    """`order_for_shipping` of a batch of orders (the relay's paid orders), a read per table for all
    of them; an unknown ref is a 404 as for one."""
    orders = {
        o.public_id: o
        for o in session.scalars(
            select(Order).where(in_list(session, Order.public_id, list(set(order_refs))))
        )
    }
    _refuse_missing(order_refs, orders)
    by_id = {o.id: o for o in orders.values()}
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in by_id}
    for line in session.scalars(
        select(OrderLine).where(in_list(session, OrderLine.order_id, list(by_id))).order_by(OrderLine.id)
    ):
        lines[line.order_id].append(line)
    every_line = [line for found in lines.values() for line in found]
    skus = catalog.shippable_skus(session, list({line.sku_id for line in every_line}))
    warehouses = inventory.warehouse_places(session, list({line.warehouse_id for line in every_line}))
    points = identity.delivery_points(session, {o.buyer_id for o in orders.values()})
    shipping = {}
    for ref, order in orders.items():
        market = organization.market_by_id(session, order.market_id)
        grouped: dict[str, list[tuple[OrderLine, catalog.ShippableSku]]] = {}
        for line in lines[order.id]:
            grouped.setdefault(warehouses[line.warehouse_id].code, []).append((line, skus[line.sku_id]))
        parcels = [
            _parcel(code, warehouses[items[0][0].warehouse_id].country, items)
            for code, items in grouped.items()
        ]
        shipping[ref] = OrderForShipping(
            order, market.country, points[order.buyer_id], parcels, market.time_zone
        )
    return shipping


def _parcel(code: str, country: str, items: list[tuple[OrderLine, catalog.ShippableSku]]) -> OrderParcel:
    lines = tuple(
        ParcelLine(
            sku.hs_code,
            sku.origin_country,
            sku.title,
            line.quantity,
            line.unit_price_minor,
            sku.weight_g * line.quantity,
        )
        for line, sku in items
    )
    return OrderParcel(
        warehouse_code=code,
        warehouse_country=country,
        weight_g=sum(sku.weight_g * line.quantity for line, sku in items),
        volume_cm3=sum(
            unit_volume_cm3(sku.length_mm, sku.width_mm, sku.height_mm) * line.quantity for line, sku in items
        ),
        value_minor=sum(line.line_total_minor for line, _ in items),
        lines=lines,
    )


TIMELINE_LIMIT = 200  # an order's events: placed, paid, a few moves and refunds


def order_timeline(session: Session, order: Order) -> list[OutboxEvent]:
    """The order's own events (order.*), oldest first: the newest TIMELINE_LIMIT of them, so that an
    order with a long history still shows where it stands now."""
    newest = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_id == order.public_id, OutboxEvent.type.startswith("order."))
        .order_by(OutboxEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    )
    return list(reversed(list(newest)))
