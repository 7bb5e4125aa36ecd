"""API shapes of checkout and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from entrepot.kernel.bounds import MAX_INT64, MAX_LINE_QUANTITY
from entrepot.ordering.payments import METHOD_MAX
from entrepot.platform.schemas import NOT_BLANK_PATTERN, Code, PublicId, Request, Text

# The moves a client asks for with POST /orders/{id}/<action> (the API and the console's confirmations)
Action = Literal["cancel", "fulfil", "ship", "deliver", "complete", "request-return", "receive-return"]


class LineIn(Request):
    sku: PublicId = Field(examples=["sku_01jd..."])
    quantity: int = Field(
        strict=True,
        description="1 up to the configured maximum per line",
        json_schema_extra={"minimum": 1, "maximum": MAX_LINE_QUANTITY},
    )


class BasketIn(Request):
    market: Code = Field(examples=["lazada-sg"])
    currency: Text | None = Field(
        default=None, max_length=3, description="if given, must be the market's currency"
    )
    lines: list[LineIn] = Field(min_length=1)


DELIVERY_OPTION = Field(
    default=None,
    max_length=32,
    description="a delivery option of the quote, by any id it answers (e.g. `express-greenest`);"
    " the default option when left out",
)


class OrderIn(BasketIn):
    payment_method: Text | None = Field(
        default=None, max_length=METHOD_MAX, description="start paying at once with this payment method token"
    )
    delivery_option: Text | None = DELIVERY_OPTION


class QuoteLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    tax_minor: int
    warehouse: str
    cross_border: bool


class ParcelOut(BaseModel):
    warehouse: str
    zone: str
    fee_minor: int


class DeliveryOptionOut(BaseModel):
    id: str = Field(description="send it (or any id in `answers`) as `delivery_option` to order")
    service: str = Field(description="express (5 days), standard (10) or economy (20)")
    answers: list[str] = Field(description="every service-objective pair this option is the choice for")
    fee_minor: int = Field(description="in the market's currency; shipping_minor if chosen")
    promised_on: dt.date | None = Field(description="delivered by the end of this day, market time")
    transit_days: int | None
    co2e_g: int | None = Field(description="estimated well-to-wheel emissions of the planned routes")
    co2e_version: str | None = Field(
        description="the emission factor version co2e_g was estimated with: the one accounting records"
        " shipments under (its number and tables), or the built-in default table; null without a network",
        examples=["v2 (asia@1, desnz-2025@1)"],
    )
    source: str = Field(description="`network` (planned routes) or `flat_zone_fees` (no network)")
    note: str
    default: bool
    greenest: bool


class QuoteOut(BaseModel):
    market: str
    currency: str
    prices_include_tax: bool
    lines: list[QuoteLineOut]
    parcels: list[ParcelOut]
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    delivery_options: list[DeliveryOptionOut] = Field(
        description="the amounts above are priced with the default option"
    )


class DeliveryOut(BaseModel):
    service: str
    objective: str
    promised_on: dt.date | None
    source: str


class AmountsOut(BaseModel):
    currency: str
    subtotal_minor: int
    total_minor: int


class FxOut(BaseModel):
    rate_date: dt.date
    usd_per_unit: Decimal
    cny_per_unit: Decimal
    provisional: bool = Field(
        description="The rate is older than the staleness limit (ENTREPOT_FX_MAX_STALENESS_DAYS) allows for "
        "the order date: the USD and CNY amounts are re-stated when a rate for the order date is loaded."
    )
    source: str = "ECB reference rate of the order date (latest earlier rate on days without one)"


class PaymentOut(BaseModel):
    id: str
    status: str
    amount_minor: int
    currency: str
    decline_reason: str | None


class RefundOut(BaseModel):
    id: str
    amount_minor: int
    reason: str
    created_at: dt.datetime


class OrderLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    tax_minor: int
    commission_rate: Decimal
    commission_minor: int
    warehouse: str
    cross_border: bool


class OrderOut(BaseModel):
    id: str
    status: str
    market: str
    buyer: str
    seller: str
    currency: str
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    refunded_minor: int
    commission_minor: int
    usd: AmountsOut
    cny: AmountsOut
    fx: FxOut
    order_date: dt.date
    cross_border: bool
    delivery: DeliveryOut | None = Field(description="the delivery option placed with (none: older orders)")
    cancel_reason: str | None
    reservation_expires_at: dt.datetime
    created_at: dt.datetime
    next_actions: list[str]
    lines: list[OrderLineOut] = []
    payments: list[PaymentOut] = []
    refunds: list[RefundOut] = []


class PayIn(Request):
    method: Text = Field(default="card", max_length=METHOD_MAX, description="a payment method token")


class RefundIn(Request):
    amount_minor: int = Field(strict=True, gt=0, le=MAX_INT64)
    reason: Text = Field(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="not blank",
        json_schema_extra=NOT_BLANK_PATTERN,
    )


class CartIn(Request):
    market: Code = Field(examples=["lazada-sg"])


class CartLineIn(Request):
    quantity: int = Field(
        strict=True,
        description="0 takes the SKU out of the cart; at most the configured maximum per line",
        json_schema_extra={"minimum": 0, "maximum": MAX_LINE_QUANTITY},
    )


class CartLineOut(BaseModel):
    sku: str
    quantity: int


class CartOut(BaseModel):
    id: str
    market: str
    status: str
    order: str | None
    lines: list[CartLineOut]
    updated_at: dt.datetime


class CartCheckoutIn(Request):
    payment_method: Text | None = Field(default=None, max_length=METHOD_MAX)
    delivery_option: Text | None = DELIVERY_OPTION
