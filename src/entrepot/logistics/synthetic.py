"""Synthetic logistics networks of any size for benchmarks: clusters of nodes around real airports
(from the airportsdata package), lanes mostly within a cluster or to neighbouring ones, some long-haul
scheduled lanes, and a backbone that makes every node reachable from every other. Seeded: the same seed
gives the same network on every machine. Lanes are built by the same rules as the demo network's.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import airportsdata

from entrepot.logistics.domain import Lane, Network, Node, rule_distance_km
from entrepot.logistics.network_data import (
    AIR_LONG_HAUL_KM,
    HANDLING_MINUTES,
    TRUCKS,
    airports,
    distance_km,
    make_lane,
    schedule_for,
    timetable_pattern,
)

# --- synthetic networks ----------------------------------------------------------------

SYNTHETIC_CLUSTER_SIZE = 25  # nodes gathered around each real airport
SYNTHETIC_SPREAD_DEG = 0.3  # standard deviation of a node's offset from its airport (about 33 km)
SYNTHETIC_KINDS = (  # what the nodes around an airport are, and how often
    ("delivery_station", 0.68),
    ("sortation_hub", 0.10),
    ("fulfilment_warehouse", 0.08),
    ("seaport", 0.06),
    ("rail_terminal", 0.05),
    ("customs_point", 0.03),
)
SYNTHETIC_NEIGHBOURS = 4  # air links from each airport to the nearest other clusters
SYNTHETIC_GRID_DEG = 6.0  # cell size of the grid that finds neighbouring clusters
# The lanes after the backbone, by share: within a cluster (trucks and vans), trucks to a neighbouring
# cluster, flights, sailings, trains.
SYNTHETIC_MIX_KINDS = ("local", "road", "air", "sea", "rail")
SYNTHETIC_MIX_SHARES = (0.72, 0.12, 0.10, 0.04, 0.02)


@dataclass
class _Cluster:
    index: int
    nodes: list[Node]
    neighbours: list[int]

    @property
    def airport(self) -> Node:
        return self.nodes[0]

    @property
    def hub(self) -> Node:
        return self.nodes[1]


def synthetic_network(nodes: int, lanes: int, seed: int) -> Network:
    """A network of exactly `nodes` nodes and `lanes` lanes for benchmarks, the same for the same seed:
    clusters of nodes around real airports, lanes mostly within a cluster or to neighbouring ones, some
    long-haul scheduled lanes, and a backbone that makes every node reachable from every other."""
    if nodes < 4:
        raise ValueError("a synthetic network needs at least 4 nodes")
    rng = random.Random(seed)
    clusters = _synthetic_clusters(rng, nodes)
    network = Network()
    for cluster in clusters:
        for node in cluster.nodes:
            network.add_node(node)
    backbone = list(_synthetic_backbone(clusters))
    if len(backbone) > lanes:
        raise ValueError(
            f"{lanes} lanes cannot connect {nodes} nodes: the backbone alone needs {len(backbone)}"
        )
    for lane in backbone:
        network.add_lane(lane)
    _synthetic_fill(rng, network, clusters, lanes - len(backbone), {lane.id for lane in backbone})
    return network


@functools.cache
def _centre_airports() -> tuple[airportsdata.Airport, ...]:
    return tuple(airport for _code, airport in sorted(airports().items()) if airport["tz"])


def _synthetic_clusters(rng: random.Random, nodes: int) -> list[_Cluster]:
    pool = _centre_airports()
    count = max(2, min(len(pool), nodes // SYNTHETIC_CLUSTER_SIZE))
    centres = rng.sample(pool, count)
    sizes = [nodes // count + (1 if i < nodes % count else 0) for i in range(count)]
    clusters = [
        _Cluster(i, _cluster_nodes(rng, centre, size), [])
        for i, (centre, size) in enumerate(zip(centres, sizes, strict=True))
    ]
    _link_neighbours(clusters)
    return clusters


def _cluster_nodes(rng: random.Random, airport: airportsdata.Airport, size: int) -> list[Node]:
    code, tz, country = airport["iata"], airport["tz"], airport["country"]
    lat0, lon0 = airport["lat"], airport["lon"]
    members = [Node(f"air-{code}", "airport", country, lat0, lon0, tz, HANDLING_MINUTES["airport"])]
    kinds, weights = zip(*SYNTHETIC_KINDS, strict=True)
    drawn = ["sortation_hub", *rng.choices(kinds, weights, k=size - 2)] if size > 1 else []
    stretch = 1 / max(0.2, math.cos(math.radians(lat0)))  # keep offsets round away from the equator
    for i, kind in enumerate(drawn, start=1):
        lat = max(-89.0, min(89.0, rng.gauss(lat0, SYNTHETIC_SPREAD_DEG)))
        lon = (rng.gauss(lon0, SYNTHETIC_SPREAD_DEG * stretch) + 180) % 360 - 180
        members.append(
            Node(f"{_PREFIX[kind]}-{code}-{i}", kind, country, lat, lon, tz, HANDLING_MINUTES[kind])
        )
    return members


_PREFIX = {
    "sortation_hub": "hub",
    "delivery_station": "ds",
    "fulfilment_warehouse": "wh",
    "seaport": "sea",
    "rail_terminal": "rail",
    "customs_point": "cus",
}


def _link_neighbours(clusters: list[_Cluster]) -> None:
    """Each cluster's nearest others, found through a grid: the work grows with the count, not its square."""
    grid: dict[tuple[int, int], list[_Cluster]] = {}
    for cluster in clusters:
        grid.setdefault(_cell(cluster.airport), []).append(cluster)
    for cluster in clusters:
        row, col = _cell(cluster.airport)
        around = [c for dr in (-1, 0, 1) for dc in (-1, 0, 1) for c in grid.get((row + dr, col + dc), ())]
        around = [c for c in around if c is not cluster]
        around.sort(key=lambda c: distance_km(cluster.airport, c.airport))
        cluster.neighbours = [c.index for c in around[:SYNTHETIC_NEIGHBOURS]]


def _cell(node: Node) -> tuple[int, int]:
    return math.floor(node.latitude / SYNTHETIC_GRID_DEG), math.floor(node.longitude / SYNTHETIC_GRID_DEG)


def _synthetic_backbone(clusters: Sequence[_Cluster]) -> Iterator[Lane]:
    """Every node to and from its cluster's hub, the hub to and from the airport, airports to their
    neighbours, and a ring of flights through every cluster so that nothing is cut off."""
    for cluster in clusters:
        hub = cluster.hub if len(cluster.nodes) > 1 else cluster.airport
        for node in cluster.nodes:
            if node is hub:
                continue
            if node.kind == "delivery_station":
                yield make_lane("van_diesel", hub, node)
                yield make_lane("van_pickup", node, hub)
            else:
                yield make_lane("road_express", hub, node)
                yield make_lane("road_express", node, hub)
    ring = sorted(clusters, key=_ring_order)
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        if a is not b:
            yield _synthetic_flight(a.airport, b.airport, "belly")
            yield _synthetic_flight(b.airport, a.airport, "belly")
    for cluster in clusters:
        for index in cluster.neighbours:
            yield _synthetic_flight(cluster.airport, clusters[index].airport, "freighter")


def _ring_order(cluster: _Cluster) -> tuple[int, float]:
    """Bands of latitude, walked east and west in turn, so the ring's hops stay mostly short."""
    band = math.floor(cluster.airport.latitude / 15)
    return band, cluster.airport.longitude if band % 2 == 0 else -cluster.airport.longitude


def _synthetic_flight(a: Node, b: Node, kind: str) -> Lane:
    haul = "long" if rule_distance_km("air", a, b)[0] > AIR_LONG_HAUL_KM else "short"
    per_week = 7 if kind == "belly" else 3
    return make_lane(
        f"{kind}_{haul}", a, b, schedule=schedule_for(kind, timetable_pattern(f"{a.code}>{b.code}"), per_week)
    )


def _synthetic_fill(
    rng: random.Random, network: Network, clusters: Sequence[_Cluster], wanted: int, taken: set[str]
) -> None:
    by_kind = _synthetic_by_kind(clusters)
    attempts_left = 50 * (wanted + 1000)  # drawing at random: give up only when pairs have clearly run out
    while wanted > 0:
        attempts_left -= 1
        if attempts_left < 0:
            raise ValueError("too many lanes for this many nodes: no new pair is left to join")
        cluster = clusters[rng.randrange(len(clusters))]
        lane = _synthetic_lane(
            rng, rng.choices(SYNTHETIC_MIX_KINDS, SYNTHETIC_MIX_SHARES)[0], cluster, clusters, by_kind
        )
        if lane is None or lane.id in taken:
            continue
        taken.add(lane.id)
        network.add_lane(lane)
        wanted -= 1


def _synthetic_by_kind(clusters: Sequence[_Cluster]) -> dict[str, list[list[Node]]]:
    """Per kind, per cluster, the nodes of that kind (so a lane can pick a seaport near a seaport)."""
    return {
        kind: [[n for n in c.nodes if n.kind == kind] for c in clusters]
        for kind in ("airport", "seaport", "rail_terminal")
    }


def _synthetic_lane(
    rng: random.Random,
    kind: str,
    cluster: _Cluster,
    clusters: Sequence[_Cluster],
    by_kind: dict[str, list[list[Node]]],
) -> Lane | None:
    senders = [n for n in cluster.nodes if n.kind != "delivery_station"]
    if kind == "local":
        a, b = rng.choice(senders), rng.choice(cluster.nodes)
        if a is b:
            return None
        if b.kind == "delivery_station":  # vans load at hubs and warehouses only
            if a.kind not in ("sortation_hub", "fulfilment_warehouse"):
                return None
            return make_lane(rng.choice(("van_diesel", "van_electric")), a, b)
        return make_lane(rng.choice(TRUCKS), a, b)
    if not cluster.neighbours:
        return None
    near = clusters[rng.choice(cluster.neighbours)]
    if kind == "road":
        a, b = rng.choice(senders), rng.choice([n for n in near.nodes if n.kind != "delivery_station"])
        return make_lane(rng.choice(TRUCKS), a, b) if distance_km(a, b) < 1500 else None
    if kind == "air":  # half to a neighbour, half anywhere: the long-haul flights
        far = near if rng.random() < 0.5 else clusters[rng.randrange(len(clusters))]
        if far is cluster:
            return None
        return _synthetic_flight(cluster.airport, far.airport, rng.choice(("belly", "freighter")))
    return _synthetic_scheduled(rng, kind, cluster, clusters, by_kind)


def _synthetic_scheduled(
    rng: random.Random,
    kind: str,
    cluster: _Cluster,
    clusters: Sequence[_Cluster],
    by_kind: dict[str, list[list[Node]]],
) -> Lane | None:
    """A weekly sailing between seaports, or a train between rail terminals of neighbouring clusters."""
    node_kind = "seaport" if kind == "sea" else "rail_terminal"
    other = (
        clusters[rng.randrange(len(clusters))] if kind == "sea" else clusters[rng.choice(cluster.neighbours)]
    )
    here, there = by_kind[node_kind][cluster.index], by_kind[node_kind][other.index]
    if not here or not there or other is cluster:
        return None
    a, b = rng.choice(here), rng.choice(there)
    service = "sea_container" if kind == "sea" else "block_train"
    schedule = schedule_for(
        "sea" if kind == "sea" else "rail", timetable_pattern(f"{a.code}>{b.code}"), rng.choice((1, 2))
    )
    return make_lane(service, a, b, schedule=schedule)
