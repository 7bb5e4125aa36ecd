"""Ordering's part of the application context: what checkout and payments need beyond what every
context shares (`entrepot.platform.deps.AppContext`). Built once, in `entrepot.bootstrap`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from entrepot.ordering.checkout import Limits
from entrepot.ordering.payments import PaymentProvider
from entrepot.ordering.shipping import FlatZoneRates, ShippingRates
from entrepot.platform.deps import AppContext, Ctx


@dataclass(kw_only=True)
class OrderingContext(AppContext):
    """The app's context with the payment provider, checkout's limits and the delivery options' rates."""

    payments: PaymentProvider
    limits: Limits
    shipping: ShippingRates = field(default_factory=FlatZoneRates)  # delivery options at checkout


async def ordering_context(ctx: Ctx) -> OrderingContext:
    if not isinstance(ctx, OrderingContext):  # an app composed without ordering's parts
        raise TypeError("the app's context has no payment provider: build it with entrepot.bootstrap")
    return ctx


OrderingCtx = Annotated[OrderingContext, Depends(ordering_context)]
