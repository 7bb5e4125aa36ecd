"""The map component's data: what a page hands templates/maps.html's `map` macro.

A map is drawn in the browser by static/map.js (Leaflet, vendored) over country outlines that ship with
the product (static/vendor/natural-earth-110m): no tile server, nothing fetched from outside. Like a
chart (web/charts.py), the page embeds the spec as JSON in a `<script type="application/json">` (data,
never run, so the Content-Security-Policy stays strict), and the same spec prints the map's text
alternative: a table of its places and one of its lines. The console's logistics pages, the storefront's
tracking page and local services draw their maps with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Point:
    """A place: `group` names its legend entry and colour (a node's kind, a stop's state)."""

    id: str
    label: str
    latitude: float
    longitude: float
    group: str = ""
    detail: str = ""  # what the table's last column and the point's tooltip add


@dataclass(frozen=True)
class Line:
    """A path through `stops` (point ids, in order), coloured by `group` (a lane's transport mode). A
    `dashed` line is a plan, not yet travelled."""

    label: str
    stops: Sequence[str]
    group: str = ""
    dashed: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Map:
    """Points and the lines between them. `point_groups` and `line_groups` order the legend (and so the
    colours); `fit` frames the map on the points rather than the whole world."""

    id: str
    title: str
    points: Sequence[Point]
    lines: Sequence[Line] = field(default_factory=tuple)
    point_groups: Sequence[str] = field(default_factory=tuple)
    line_groups: Sequence[str] = field(default_factory=tuple)
    point_heading: str = "Place"
    line_heading: str = "Line"
    detail_heading: str = ""
    fit: bool = True

    def spec(self) -> dict[str, Any]:
        """The JSON the browser draws from: what map.js reads, no more (a network map has thousands of
        lines; their labels and details are the tables'). A line's stops it has no point for are left
        out of it, and a line left with fewer than two is not drawn."""
        known = {p.id for p in self.points}
        lines = []
        for line in self.lines:
            stops = [s for s in line.stops if s in known]
            if len(stops) >= 2:
                lines.append({"stops": stops, "group": line.group, "dashed": line.dashed})
        return {
            "id": self.id,
            "points": [
                {
                    "id": p.id,
                    "label": p.label,
                    "latitude": p.latitude,
                    "longitude": p.longitude,
                    "group": p.group,
                    "detail": p.detail,
                }
                for p in self.points
            ],
            "lines": lines,
            "point_groups": list(self.point_groups),
            "line_groups": list(self.line_groups),
            "fit": self.fit,
        }

    def point_columns(self) -> list[tuple[str, str]]:
        detail = [(self.detail_heading, "")] if self.detail_heading else []
        return [(self.point_heading, ""), ("Kind", ""), ("Latitude", "num"), ("Longitude", "num"), *detail]

    def point_rows(self) -> list[tuple[str, list[str]]]:
        return [
            (
                p.label,
                [
                    p.group.replace("_", " "),
                    f"{p.latitude:.2f}",
                    f"{p.longitude:.2f}",
                    *([p.detail] if self.detail_heading else []),
                ],
            )
            for p in self.points
        ]

    def line_columns(self) -> list[tuple[str, str]]:
        return [(self.line_heading, ""), ("Through", ""), ("Mode", ""), ("Detail", "")]

    def line_rows(self) -> list[tuple[str, list[str]]]:
        labels = {p.id: p.label for p in self.points}
        return [
            (
                line.label,
                [" - ".join(labels.get(s, s) for s in line.stops), line.group.replace("_", " "), line.detail],
            )
            for line in self.lines
        ]
