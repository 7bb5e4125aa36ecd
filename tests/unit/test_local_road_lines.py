"""The city's roads as lines for a map (city.road_lines_json): every road couriers ride is drawn, inside
the map's box, simplified and small enough to send with a page, and built once."""

from __future__ import annotations

import json

import numpy as np

from entrepot.local_services.city import road_lines_json
from entrepot.local_services.locate import city
from entrepot.local_services.roads import VEHICLES
from tests.api.local_on_demand import shipped_city

__all__ = ["shipped_city"]  # fixture


def test_the_roads_are_lines_inside_the_map_small_and_kept(shipped_city: None) -> None:
    the_city = city()
    body = road_lines_json(the_city)
    drawn = json.loads(body)
    assert drawn["attribution"] == "© OpenStreetMap contributors, ODbL"
    south, west, north, east = drawn["bbox"]
    points = np.array([p for line in drawn["lines"] for p in line])
    assert all(len(line) >= 2 for line in drawn["lines"])
    assert south <= points[:, 0].min() and points[:, 0].max() <= north
    assert west <= points[:, 1].min() and points[:, 1].max() <= east
    ridden = set()
    for mode in VEHICLES:
        ridden.update(the_city.graphs[mode].reachable.tolist())
    assert len(points) < len(ridden)  # simplified: fewer points than the nodes ridden
    corners = {(round(float(the_city.lat[n]), 5), round(float(the_city.lon[n]), 5)) for n in ridden}
    ends = {(line[0][0], line[0][1]) for line in drawn["lines"]}
    assert ends <= corners  # every line starts at a road's node, not somewhere invented
    assert len(body) < 200_000  # sent with a page: tens of kilobytes, not megabytes
    assert road_lines_json(the_city) is body  # built once
