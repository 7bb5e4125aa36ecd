"""The console's routes and files, added to the API's application (api.app.create_app)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from entrepot.platform.deps import AppContext
from entrepot.web import (
    access,
    accounts,
    audit,
    catalog,
    emissions,
    inventory,
    local_map,
    local_pages,
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
from entrepot.web.shop import local_ordering, local_tracking
from entrepot.web.templating import HERE

log = logging.getLogger(__name__)


def prepare(ctx: AppContext) -> None:
    """What the console computes after a start rather than in its first visitor's request. Only a head
    start: whatever stops it (the app stopping under it, a snapshot being rewritten) is logged and the
    page computes its figures when asked, as it would have anyway."""
    for page in (reporting, accounts):
        try:
            page.prepare(ctx)
        except Exception as stopped:  # any failure here only forgoes the head start
            log.info("console page %s not prepared ahead: %s", page.__name__, stopped)


def install(app: FastAPI) -> None:
    """Mount the console at `/`: its pages (left out of the API's document) and its stylesheet."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="console-static")
    pages = (
        organisation,
        markets,
        catalog,
        inventory,
        peak,
        logistics,
        local_map,
        local_pages,
        local_tracking,
        local_ordering,
        reporting,
        accounts,
        emissions,
        access,
        audit,
    )
    # orders' refund before /{action}
    for module in (signin, overview, orders, order_actions, *pages, storefront):
        app.include_router(module.router)
