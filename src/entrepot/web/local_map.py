"""The city's roads for the console's and storefront's maps of local services (issue 22): the same-origin
JSON a page's map script fetches (no tile server: the maps are offline, under the strict CSP). Any signed-in
user may read it: the roads are the OpenStreetMap extract's, public, with its attribution in the body."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from entrepot.local_services.city import road_lines_json
from entrepot.local_services.locate import city
from entrepot.web.auth import Viewer
from entrepot.web.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/local/roads.json")
def roads(viewer: Viewer) -> Response:
    """Built once per process; the browser keeps it an hour (the map changes only with a new extract)."""
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(road_lines_json(city()), media_type="application/json", headers=headers)
