"""`entrepot bench dispatch`: a city day played through our dispatch and, in the same run on the same day,
through the greedy baseline (each order at once to the nearest free courier, alone).

Both see the same stores, couriers, orders, kitchens and cancellations; rides draw their noise from the
same seed. `courier_minutes_per_order` counts courier time from leaving for a trip to being free again,
waiting at stores included, over delivered orders; `greedy_ratio` is ours over the baseline's.
`on_time` is the share of orders not cancelled that arrived by their promise; `p95_round_ms` the 95th
percentile of the wall-clock time of our rounds that had orders to dispatch."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass

from rich.console import Console

from entrepot.local_services.city import current_city
from entrepot.local_services.citysim import HOUR, CityDay, generate
from entrepot.local_services.citysim_play import Played, Player
from entrepot.local_services.dispatch import Dispatcher, GreedyDispatcher
from entrepot.local_services.dispatch_match import DispatchRules
from entrepot.local_services.ondemand import clock


@dataclass(frozen=True)
class DispatchBench:
    ours: Played
    greedy: Played
    day: CityDay
    rules: DispatchRules

    @property
    def greedy_ratio(self) -> float:
        return self.ours.courier_minutes_per_order / max(1e-9, self.greedy.courier_minutes_per_order)


def run(console: Console, orders: int, couriers: int, seed: int, rules: DispatchRules) -> DispatchBench:
    console.print(f"a city day: {orders:,} orders, {couriers:,} couriers, seed {seed}", highlight=False)
    day = generate(current_city(), seed, orders, couriers)
    console.print(f"{len(day.stores)} stores on {day.places:,} addresses of the map", highlight=False)
    results = []
    for name, kind in (("dispatch", Dispatcher), ("greedy", GreedyDispatcher)):
        dispatcher = kind(day.stores, day.couriers, day.travel, rules)
        player = Player(day, dispatcher, name, progress=_progress(console, name))
        results.append(player.play())
        console.print(describe(results[-1]), highlight=False)
    bench = DispatchBench(results[0], results[1], day, rules)
    console.print(summary(bench, orders, couriers), highlight=False)
    return bench


def _progress(console: Console, name: str) -> Player.Progress:
    def said(now: float, played: Played) -> None:
        if now % (2 * HOUR) < 1e-6:
            console.print(
                f"  {name} {clock(now)}: {played.placed:,} placed, {played.delivered:,} delivered",
                highlight=False,
            )

    return said


def describe(played: Played) -> str:
    promise = statistics.median(played.promise_s) / 60 if played.promise_s else 0.0
    return (
        f"{played.name}: {played.delivered:,} delivered of {played.placed:,} ({played.cancelled} cancelled, "
        f"{played.refused} refused), on time {played.on_time_share:.3f}, "
        f"{played.courier_minutes_per_order:.2f} courier minutes an order, {played.trips:,} trips, "
        f"{played.released} couriers released late, promise p50 {promise:.1f} min, "
        f"rounds p95 {played.p95_round_ms:.1f} ms (max {max(played.round_ms, default=0.0):.0f} ms)"
    )


def summary(bench: DispatchBench, orders: int, couriers: int) -> str:
    ours, greedy = bench.ours, bench.greedy
    return (
        f"dispatch orders={orders} couriers={couriers} on_time={ours.on_time_share:.3f} "
        f"p95_round_ms={ours.p95_round_ms:.1f} "
        f"courier_minutes_per_order={ours.courier_minutes_per_order:.2f} "
        f"greedy_ratio={bench.greedy_ratio:.3f} greedy_on_time={greedy.on_time_share:.3f} "
        f"greedy_courier_minutes_per_order={greedy.courier_minutes_per_order:.2f} "
        f"delivered={ours.delivered} period_s={bench.rules.period_s:g} seed={bench.day.seed} "
        f"load1={os.getloadavg()[0]:.2f}"
    )
