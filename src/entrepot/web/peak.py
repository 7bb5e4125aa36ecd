"""Peak days in the console: flash sales' live boards, group buys and the livestream control room."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.web.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
