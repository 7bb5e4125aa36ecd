"""The console's routes and files, added to the API's application (api.app.create_app)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from entrepot.web import (
    access,
    catalog,
    emissions,
    inventory,
    logistics,
    markets,
    order_actions,
    orders,
    organisation,
    overview,
    peak,
    reporting,
    signin,
    storefront,
)
from entrepot.web.templating import HERE


def install(app: FastAPI) -> None:
    """Mount the console at `/`: its pages (left out of the API's document) and its stylesheet."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="console-static")
    pages = (organisation, markets, catalog, inventory, peak, logistics, reporting, emissions, access)
    # orders' refund before /{action}
    for module in (signin, overview, orders, order_actions, *pages, storefront):
        app.include_router(module.router)
