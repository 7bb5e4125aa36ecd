"""A city's roads from an OpenStreetMap extract: which ways each mode may use, in which direction and how
fast, as directed edges with travel seconds. Parsed once with pyosmium (the OSM project's own bindings of
libosmium) and kept as plain numpy arrays, which `city` stores in a compact cache and loads in a blink.

The rules are deliberately few and stated here once: a road class gives each mode a speed (None: the mode
may not use it); access tags close a way to modes; one-way streets bind vehicles but never walkers, and
`oneway:bicycle=no` lets e-bikes ride against them, as it does in the cities that tag it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import osmium.osm

EARTH_RADIUS_M = 6_371_008.8


class Mode(StrEnum):
    EBIKE = "ebike"
    SCOOTER = "scooter"
    CAR = "car"
    WALKING = "walking"


MODES = tuple(Mode)
VEHICLES = frozenset({Mode.EBIKE, Mode.SCOOTER, Mode.CAR})
WALKING_KMH = 5.0  # also the speed of the last metres between a point and the road it is snapped to

# km/h by highway class and mode; a class absent from a mode's column is closed to it. Urban speeds with
# crossings and traffic priced in, not limits: a car averages well under 50 on a 50 street in a city centre.
_ROAD_KMH: dict[str, tuple[float | None, float | None, float | None, float | None]] = {
    #                 ebike  scooter car   walking
    "motorway": (None, None, 70.0, None),
    "motorway_link": (None, None, 40.0, None),
    "trunk": (None, 35.0, 50.0, None),
    "trunk_link": (None, 30.0, 35.0, None),
    "primary": (20.0, 30.0, 32.0, WALKING_KMH),
    "primary_link": (18.0, 25.0, 28.0, WALKING_KMH),
    "secondary": (20.0, 28.0, 28.0, WALKING_KMH),
    "secondary_link": (18.0, 24.0, 25.0, WALKING_KMH),
    "tertiary": (19.0, 25.0, 25.0, WALKING_KMH),
    "tertiary_link": (18.0, 22.0, 22.0, WALKING_KMH),
    "unclassified": (18.0, 22.0, 22.0, WALKING_KMH),
    "residential": (18.0, 20.0, 20.0, WALKING_KMH),
    "living_street": (12.0, 10.0, 10.0, WALKING_KMH),
    "service": (14.0, 12.0, 12.0, WALKING_KMH),
    "road": (15.0, 15.0, 15.0, WALKING_KMH),
    "cycleway": (20.0, None, None, WALKING_KMH),
    "pedestrian": (8.0, None, None, WALKING_KMH),  # riding at walking pace among people
    "track": (12.0, None, None, WALKING_KMH),
    "path": (12.0, None, None, WALKING_KMH),
    "trail": (10.0, None, None, WALKING_KMH),
    "footway": (None, None, None, WALKING_KMH),
    "bridleway": (None, None, None, WALKING_KMH),
    "corridor": (None, None, None, WALKING_KMH),
    "platform": (None, None, None, WALKING_KMH),
    "crossing": (None, None, None, WALKING_KMH),
    "elevator": (None, None, None, WALKING_KMH / 2),
    "steps": (None, None, None, 2.0),
}
ROAD_CLASSES = tuple(_ROAD_KMH)
# a footway that is signed for bicycles is ridden, slower than a cycleway: pedestrians have priority
_SHARED_FOOTWAY_KMH = 12.0
_CLOSED = frozenset({"no", "private"})
_YES = frozenset({"yes", "true", "1"})
_OPEN_TO_BIKES = frozenset({"yes", "designated", "permissive"})


def road_kmh(road_class: str, mode: Mode) -> float | None:
    """The speed a mode makes on a road class, or None where the mode may not go."""
    speeds = _ROAD_KMH.get(road_class)
    return None if speeds is None else speeds[MODES.index(mode)]


@dataclass(frozen=True)
class Direction:
    forward: bool
    backward: bool


def way_kmh(tags: Mapping[str, str], mode: Mode) -> float | None:
    """A way's speed for a mode, its access tags and signed limit applied; None: closed to the mode."""
    road_class = tags.get("highway", "")
    kmh = road_kmh(road_class, mode)
    if mode is Mode.EBIKE and road_class == "footway" and tags.get("bicycle") in _OPEN_TO_BIKES:
        kmh = _SHARED_FOOTWAY_KMH
    if kmh is None or tags.get("area") in _YES:
        return None
    if mode is Mode.WALKING:
        return None if tags.get("foot") in _CLOSED else kmh
    if tags.get("access") in _CLOSED and tags.get(_own_access(mode)) not in _OPEN_TO_BIKES:
        return None
    if tags.get(_own_access(mode)) in _CLOSED:
        return None
    if mode is not Mode.EBIKE and tags.get("motor_vehicle") in _CLOSED:
        return None
    limit = _maxspeed_kmh(tags.get("maxspeed"))
    return kmh if limit is None or mode is Mode.EBIKE else min(kmh, limit)


def _own_access(mode: Mode) -> str:
    return {Mode.EBIKE: "bicycle", Mode.SCOOTER: "moped", Mode.CAR: "motorcar"}.get(mode, "foot")


def _maxspeed_kmh(value: str | None) -> float | None:
    """A plain numeric limit in km/h (`50`); mph, zones (`FI:urban`) and other forms are not used."""
    if value is None or not value.strip().isdigit():
        return None
    limit = float(value.strip())
    return limit if limit > 0 else None


def way_direction(tags: Mapping[str, str], mode: Mode) -> Direction:
    """Which ways along its nodes a mode may travel a way: walkers both, vehicles as the one-way tags say."""
    if mode is Mode.WALKING:
        return Direction(True, True)
    if mode is Mode.EBIKE and tags.get("oneway:bicycle") == "no":
        return Direction(True, True)
    oneway = tags.get("oneway")
    if oneway == "-1":
        return Direction(False, True)
    implied = tags.get("junction") in {"roundabout", "circular"} or tags.get("highway") == "motorway"
    if oneway in _YES or (implied and oneway != "no"):
        return Direction(True, False)
    return Direction(True, True)


@dataclass(frozen=True)
class Address:
    street: str
    housenumber: str
    postcode: str
    city: str
    lat: float
    lon: float


@dataclass
class Roads:
    """Every node a road uses (degrees) and, per mode, its directed edges (node indexes, metres, seconds),
    plus the named streets along them and the extract's addresses, for geocoding."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    edges: dict[Mode, tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32], NDArray[np.float32]]]
    street_names: list[tuple[str, int]]  # (name, node index) for every node of a named street
    addresses: list[Address]


def haversine_m(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64], lat2: NDArray[np.float64], lon2: NDArray[np.float64]
) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))
    return result


class _Collector:
    """Gathers what one pass over the extract holds: road ways with their node locations, addresses."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.ways: list[tuple[dict[str, str], list[int]]] = []
        self.addresses: list[Address] = []

    def node_index(self, node: osmium.osm.NodeRef) -> int:
        found = self.index.get(node.ref)
        if found is None:
            found = self.index[node.ref] = len(self.lat)
            self.lat.append(node.location.lat)
            self.lon.append(node.location.lon)
        return found

    def take_way(self, way: osmium.osm.Way) -> None:
        tags = {tag.k: tag.v for tag in way.tags}
        located = [n for n in way.nodes if n.location.valid()]
        if "addr:housenumber" in tags and "addr:street" in tags and located:
            lat = sum(n.location.lat for n in located) / len(located)
            lon = sum(n.location.lon for n in located) / len(located)
            self.addresses.append(_address(tags, lat, lon))
        if tags.get("highway") in _ROAD_KMH and len(located) >= 2:
            self.ways.append((tags, [self.node_index(n) for n in located]))

    def take_node(self, node: osmium.osm.Node) -> None:
        tags = node.tags
        if "addr:housenumber" in tags and "addr:street" in tags and node.location.valid():
            self.addresses.append(_address(dict(tags), node.location.lat, node.location.lon))


def _address(tags: Mapping[str, str], lat: float, lon: float) -> Address:
    return Address(
        street=tags["addr:street"].strip(),
        housenumber=tags["addr:housenumber"].strip(),
        postcode=tags.get("addr:postcode", "").strip(),
        city=tags.get("addr:city", "").strip(),
        lat=lat,
        lon=lon,
    )


def parse(pbf: Path) -> Roads:
    """Read an `.osm.pbf` extract into `Roads`: one pass, node locations kept in memory (a city's worth)."""
    import osmium

    collected = _Collector()
    for obj in osmium.FileProcessor(str(pbf)).with_locations():
        if isinstance(obj, osmium.osm.Way):
            collected.take_way(obj)
        elif isinstance(obj, osmium.osm.Node):
            collected.take_node(obj)
    lat, lon = np.array(collected.lat), np.array(collected.lon)
    edges = {mode: _mode_edges(collected.ways, lat, lon, mode) for mode in MODES}
    names = [(tags["name"], n) for tags, nodes in collected.ways if tags.get("name") for n in nodes]
    return Roads(lat, lon, edges, names, collected.addresses)


def _segments(ways: list[tuple[dict[str, str], list[int]]], mode: Mode) -> Iterator[tuple[int, int, float]]:
    """(from node, to node, km/h) for each segment a mode may travel, in each allowed direction."""
    for tags, nodes in ways:
        kmh = way_kmh(tags, mode)
        if kmh is None:
            continue
        direction = way_direction(tags, mode)
        for a, b in itertools.pairwise(nodes):
            if direction.forward:
                yield a, b, kmh
            if direction.backward:
                yield b, a, kmh


def _mode_edges(
    ways: list[tuple[dict[str, str], list[int]]],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    mode: Mode,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32], NDArray[np.float32]]:
    """A mode's directed edges, one per ordered node pair (the fastest where two ways join the same nodes:
    a sparse matrix would add them up)."""
    rows = np.array(list(_segments(ways, mode)), dtype=np.float64).reshape(-1, 3)
    tail, head, kmh = rows[:, 0].astype(np.int32), rows[:, 1].astype(np.int32), rows[:, 2]
    metres = haversine_m(lat[tail], lon[tail], lat[head], lon[head])
    seconds = metres / (kmh / 3.6)
    keep = tail != head
    tail, head, metres, seconds = tail[keep], head[keep], metres[keep], seconds[keep]
    order = np.lexsort((seconds, head, tail))
    tail, head, metres, seconds = tail[order], head[order], metres[order], seconds[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    return (
        tail[first],
        head[first],
        metres[first].astype(np.float32),
        seconds[first].astype(np.float32),
    )
