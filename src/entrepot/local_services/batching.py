"""Batching: which waiting orders share a trip. Pure: orders, stores and travel in, trips out.

Two orders may share when their stores are the same or near each other, their food is ready within a few
minutes of each other and their units fit one bag. The saving of every such pair is computed at once
(arrays over the candidate pairs, travel by e-bike, the mode most couriers ride): the two trips alone
minus the trip together, plus one ride to a first store saved. Pairs are then taken best first, a trip
growing to `max_orders` while each order added still saves time; no order joins a trip that would break
any of its orders' promises (less a safety margin), so batching never trades a promise for a saving."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from entrepot.local_services.ondemand import (
    DROPOFF_S,
    PICKUP_S,
    QUOTE_MODE,
    Order,
    Stop,
    StopKind,
    Store,
    Travel,
    Trip,
)

DROP_S = DROPOFF_S[QUOTE_MODE]
_Visits = tuple[list[int], list[int]]  # stores' rows in visiting order, then the orders' doors in order


@dataclass(frozen=True)
class BatchRules:
    max_orders: int = 3
    max_units: int = 4  # what the smallest bag carries: any courier can take any trip's load
    near_s: float = 120.0  # stores this close by e-bike are one pickup round
    ready_slack_s: float = 300.0  # food ready this far apart may share a trip
    approach_s: float = 150.0  # a typical ride to a first store: what a shared trip saves once
    safety_s: float = 330.0  # a shared trip keeps every drop-off this far inside its promise
    # a courier aims to reach a store this long before the food is expected: kitchens are often early
    early_s: float = 120.0
    tries_per_trip: int = 3  # orders tried for a third place in a trip before it is left at two
    partners: int = 4  # an order's best pairs kept for merging
    typical_orders_per_trip: float = 1.6  # for the quote's backlog
    typical_trip_s: float = 600.0


@dataclass
class _Round:
    """The round's orders as arrays, sorted by ready time, and e-bike seconds between their places."""

    orders: list[Order]
    pick: NDArray[np.intp]  # row of M of each order's store
    drop: NDArray[np.intp]  # row of M of each order's door
    ready: NDArray[np.float64]
    promised: NDArray[np.float64]
    units: NDArray[np.int64]
    places: NDArray[np.intp]
    m: NDArray[np.float64]
    now: float
    rules: BatchRules

    def arrival(self, ready: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """When a courier reaches a first store: as its food is ready, or after a typical ride if sooner."""
        return np.maximum(self.now + self.rules.approach_s, np.asarray(ready) - self.rules.early_s)

    def alone_s(self) -> NDArray[np.float64]:
        """Busy seconds of each order carried alone, from reaching its store."""
        arrive = self.arrival(self.ready)
        ride = self.m[self.pick, self.drop]
        result: NDArray[np.float64] = np.maximum(0.0, self.ready - arrive) + PICKUP_S + ride + DROP_S
        return result


def batch(
    orders: Sequence[Order], stores: Mapping[int, Store], travel: Travel, now: float, rules: BatchRules
) -> list[Trip]:
    """The orders grouped into trips: every order in exactly one."""
    if not orders:
        return []
    r = _round(orders, stores, travel, now, rules)
    alone = r.alone_s()
    return [_trip(r, members, route) for members, route in _merge(r, _pair_savings(r, alone), alone)]


def _round(
    orders: Sequence[Order], stores: Mapping[int, Store], travel: Travel, now: float, rules: BatchRules
) -> _Round:
    ordered = sorted(orders, key=lambda o: (o.ready_at, o.id))
    n = len(ordered)
    pick = np.array([stores[o.store].place for o in ordered], dtype=np.intp)
    drop = np.array([o.place for o in ordered], dtype=np.intp)
    places, inverse = np.unique(np.concatenate([pick, drop]), return_inverse=True)
    m = travel.matrix(QUOTE_MODE, places.astype(np.intp), places.astype(np.intp))
    return _Round(
        ordered,
        inverse[:n].astype(np.intp),
        inverse[n:].astype(np.intp),
        np.array([o.ready_at for o in ordered]),
        np.array([o.promised_at for o in ordered]),
        np.array([o.units for o in ordered], dtype=np.int64),
        places.astype(np.intp),
        m,
        now,
        rules,
    )


@dataclass(frozen=True)
class _Pairs:
    """Pairs that may share a trip, best saving first: `first` is the order ready first (the round is sorted
    by ready time), whose store is visited first; `busy` the trip's seconds from the first store;
    `first_door_first` whether its door comes first too."""

    first: NDArray[np.intp]
    second: NDArray[np.intp]
    busy: NDArray[np.float64]
    first_door_first: NDArray[np.bool_]


def _pair_savings(r: _Round, alone: NDArray[np.float64]) -> _Pairs:
    """(first, second, saving) of every pair that may share a trip and saves time, best first; `first` is
    the order ready first (the round is sorted by ready time), whose store is visited first."""
    rules = r.rules
    a, b = np.nonzero(
        np.triu(
            (r.m[np.ix_(r.pick, r.pick)] <= rules.near_s)
            & (r.ready[None, :] - r.ready[:, None] <= rules.ready_slack_s)
            & (r.units[:, None] + r.units[None, :] <= rules.max_units),
            k=1,
        )
    )
    if len(a) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return _Pairs(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    pa, pb, da, db = r.pick[a], r.pick[b], r.drop[a], r.drop[b]
    arrive = r.arrival(r.ready[a])
    same = pa == pb
    # one pickup if one store, else the first store's then the second's
    first_done = np.maximum(arrive, r.ready[a]) + PICKUP_S
    leave = np.where(
        same,
        np.maximum(arrive, r.ready[b]) + PICKUP_S,
        np.maximum(first_done + r.m[pa, pb], r.ready[b]) + PICKUP_S,
    )
    slack_a, slack_b = r.promised[a] - rules.safety_s, r.promised[b] - rules.safety_s
    # drop a first, or b first
    a1 = leave + r.m[pb, da] + DROP_S
    b1 = a1 + r.m[da, db] + DROP_S
    b2 = leave + r.m[pb, db] + DROP_S
    a2 = b2 + r.m[db, da] + DROP_S
    end1 = np.where((a1 <= slack_a) & (b1 <= slack_b), b1, np.inf)
    end2 = np.where((b2 <= slack_b) & (a2 <= slack_a), a2, np.inf)
    together = np.minimum(end1, end2) - arrive
    saving = alone[a] + alone[b] + rules.approach_s - together
    keep = np.isfinite(together) & (saving > 0)
    best = np.flatnonzero(keep)[np.argsort(-saving[keep], kind="stable")]
    n, k = len(r.orders), rules.partners
    top = best[_among_best(a[best], n, k) | _among_best(b[best], n, k)]
    return _Pairs(a[top].astype(np.intp), b[top].astype(np.intp), together[top], (end1 <= end2)[top])


def _among_best(member: NDArray[np.intp], n: int, k: int) -> NDArray[np.bool_]:
    """For pairs sorted best first: whether each is among the first `k` pairs of its `member` order. An
    order's later partners seldom win, and going through every pair of a busy hour costs a round."""
    order = np.argsort(member, kind="stable")  # stable: best first within each order
    seen = np.bincount(member, minlength=n)
    first = np.concatenate([[0], np.cumsum(seen)[:-1]])
    rank = np.empty(len(member), dtype=np.int64)
    rank[order] = np.arange(len(member)) - first[member[order]]
    result: NDArray[np.bool_] = rank < k
    return result


def _merge(
    r: _Round,
    pairs: _Pairs,
    alone: NDArray[np.float64],
) -> list[tuple[list[int], _Visits | None]]:
    """Pairs best first into trips: two lone orders make a trip; a lone order joins a trip with room when
    the trip with it is still shorter than both apart."""
    group_of = np.full(len(r.orders), -1)
    groups: list[list[int]] = []
    busy: list[float] = []
    routes: list[_Visits] = []
    tries: list[int] = []
    listed = zip(
        pairs.first.tolist(),
        pairs.second.tolist(),
        pairs.busy.tolist(),
        pairs.first_door_first.tolist(),
        strict=True,
    )
    for a, b, together, a_first in listed:
        ga, gb = group_of[a], group_of[b]
        if ga < 0 and gb < 0:  # as `_pair_savings` found them: no need to route them again
            group_of[a] = group_of[b] = len(groups)
            groups.append([a, b])
            busy.append(together)
            stores = [int(r.pick[a])] if r.pick[a] == r.pick[b] else [int(r.pick[a]), int(r.pick[b])]
            routes.append((stores, [a, b] if a_first else [b, a]))
            tries.append(0)
            continue
        if (ga < 0) == (gb < 0):
            continue  # both already in trips
        joining, g = (a, gb) if ga < 0 else (b, ga)
        members = groups[g]
        if len(members) >= r.rules.max_orders or tries[g] >= r.rules.tries_per_trip:
            continue
        if int(r.units[members].sum() + r.units[joining]) > r.rules.max_units:
            continue
        tries[g] += 1
        planned = _route(r, [*members, joining])
        if planned is None or planned[0] >= busy[g] + alone[joining] + r.rules.approach_s:
            continue
        members.append(joining)
        group_of[joining] = g
        busy[g], routes[g] = planned[0], planned[1:]
    alone_ones: list[tuple[list[int], _Visits | None]] = [
        ([i], None) for i in np.flatnonzero(group_of < 0).tolist()
    ]
    return list(zip(groups, routes, strict=True)) + alone_ones


def _route(r: _Round, members: list[int]) -> tuple[float, list[int], list[int]] | None:
    """The best way to carry these orders together: stores in the order their food is ready, doors in the
    order that ends soonest with every promise kept (less the safety margin). (busy seconds from the first
    store, stores' rows, doors' order) or None when no order keeps every promise."""
    stores: dict[int, float] = {}
    for i in members:
        stores[int(r.pick[i])] = max(stores.get(int(r.pick[i]), 0.0), float(r.ready[i]))
    visit = sorted(stores, key=lambda p: stores[p])
    arrive = max(r.now + r.rules.approach_s, stores[visit[0]] - r.rules.early_s)  # as `arrival`, scalar
    t = arrive
    for k, place in enumerate(visit):
        if k:
            t += r.m[visit[k - 1], place]
        t = max(t, stores[place]) + PICKUP_S
    leave, last = t, visit[-1]
    best: tuple[float, list[int]] | None = None
    for doors in itertools.permutations(members):
        t, at, kept = leave, last, True
        for i in doors:
            t += r.m[at, r.drop[i]] + DROP_S
            at = int(r.drop[i])
            if t > r.promised[i] - r.rules.safety_s:
                kept = False
                break
        if kept and (best is None or t < best[0]):
            best = (t, list(doors))
    if best is None:
        return None
    return best[0] - arrive, visit, best[1]


def _trip(r: _Round, members: list[int], route: _Visits | None) -> Trip:
    """A group of the round's orders as a trip, by its planned route; a lone order goes store then door."""
    visit, doors = route if route is not None else ([int(r.pick[members[0]])], members)
    ids = [r.orders[i].id for i in members]
    pickups = [
        Stop(StopKind.PICKUP, int(r.places[p]), tuple(r.orders[i].id for i in members if r.pick[i] == p))
        for p in visit
    ]
    dropoffs = [Stop(StopKind.DROPOFF, int(r.places[r.drop[i]]), (r.orders[i].id,)) for i in doors]
    return Trip(tuple(ids), tuple(pickups + dropoffs))
