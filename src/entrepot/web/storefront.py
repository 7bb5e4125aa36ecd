"""The storefront: buyers browse, search, fill a cart and check out, per marketplace and market."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.web.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
