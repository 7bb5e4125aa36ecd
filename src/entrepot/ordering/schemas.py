"""API shapes of checkout and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from entrepot.api.schemas import Request


class LineIn(Request):
    sku: str = Field(examples=["sku_01jd..."])
    quantity: int = Field(strict=True, description="1 up to the configured maximum per line")


class BasketIn(Request):
    market: str = Field(examples=["lazada-sg"])
    currency: str | None = Field(default=None, description="if given, must be the market's currency")
    lines: list[LineIn] = Field(min_length=1)


class OrderIn(BasketIn):
    payment_method: str | None = Field(
        default=None, max_length=64, description="start paying at once with this payment method token"
    )


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


class AmountsOut(BaseModel):
    currency: str
    subtotal_minor: int
    total_minor: int


class FxOut(BaseModel):
    rate_date: dt.date
    usd_per_unit: Decimal
    cny_per_unit: Decimal
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
    cancel_reason: str | None
    reservation_expires_at: dt.datetime
    created_at: dt.datetime
    next_actions: list[str]
    lines: list[OrderLineOut] = []
    payments: list[PaymentOut] = []
    refunds: list[RefundOut] = []


class PayIn(Request):
    method: str = Field(default="card", max_length=64, description="a payment method token")


class RefundIn(Request):
    amount_minor: int = Field(strict=True, gt=0)
    reason: str = Field(min_length=1, max_length=200)


class CartIn(Request):
    market: str = Field(examples=["lazada-sg"])


class CartLineIn(Request):
    quantity: int = Field(strict=True, description="0 takes the SKU out of the cart")


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
    payment_method: str | None = Field(default=None, max_length=64)
