"""Logistics in the console: the network on a map, the route planner, shipments and customs holds."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.web.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
