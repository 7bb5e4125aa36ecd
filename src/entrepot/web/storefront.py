"""The storefront: buyers browse, search, fill a cart and check out, per marketplace and market
(`/shop/{marketplace}/{market}`: `/shop/lazada/sg`), in the market's currency, formats and language.

Its pages live in the web.shop package, one module per part of the journey; each calls the services the
API's routes call (catalog, ordering's carts and checkout, campaigns' group buys, logistics' tracking),
so a buyer is refused in a page exactly as the API refuses the same call."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.web.shop import browse, cart, flash, group, orders
from entrepot.web.shop.common import ShopRoute

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
for part in (browse, cart, orders, group, flash):
    router.include_router(part.router)
