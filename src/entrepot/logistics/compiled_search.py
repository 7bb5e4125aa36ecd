"""The planner's inner loops, compiled with Numba: the same search as `routing.reference_search`, over
flat arrays instead of Python objects.

Why: a planning query on a 10,000-node network creates hundreds of thousands of candidate labels; as
Python objects that costs seconds, as array rows in machine code milliseconds. The search rules (label
order, dominance with tolerance, the (1+epsilon) cover at the destination, bounds, the routing rules,
deadline and full departures) are exactly the reference's, and a property test checks that both return
the same routes.

Compiled functions are cached on disk beside this file (`cache=True`), so only the first run on a
machine pays the compilation (a few seconds); they release the GIL (`nogil=True`), so threads plan in
parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Per node, its labels' arrival, cost, emissions and label number in rows of `max_labels` slots, and
# how many slots are used: contiguous, so the dominance scans read memory in order.
Bags = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

NO_ROUTE = np.iinfo(np.int64).max // 4  # "unreachable" / "never" in minute and cent arrays
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
EPSILON_G = 1e-9


@njit(cache=True, nogil=True)
def next_departure(
    ready: int,
    cutoff: int,
    offsets: np.ndarray,
    zone_offsets: np.ndarray,
    first_day: int,
) -> int:
    """`domain.Schedule.next_departure` on arrays: `offsets` are the weekly local departure minutes
    (sorted), `zone_offsets[d]` the zone's UTC offset on day `first_day + d`. NO_ROUTE past the table."""
    earliest = ready + cutoff
    day = earliest // MINUTES_PER_DAY - first_day
    if day < 0 or day >= zone_offsets.shape[0]:
        return NO_ROUTE
    local = earliest + zone_offsets[day]
    monday = local - (local // MINUTES_PER_DAY + 3) % 7 * MINUTES_PER_DAY - local % MINUTES_PER_DAY
    wanted = local - monday
    count = offsets.shape[0]
    while True:
        weeks, index = divmod(np.searchsorted(offsets, wanted), count)
        departure_local = monday + weeks * MINUTES_PER_WEEK + offsets[index]
        day = departure_local // MINUTES_PER_DAY - first_day
        if day < 0 or day >= zone_offsets.shape[0]:
            return NO_ROUTE
        departure = departure_local - zone_offsets[day]
        if departure >= earliest:
            return departure
        wanted = departure_local - monday + 1


@njit(cache=True, nogil=True)
def _heap_push(keys: np.ndarray, items: np.ndarray, size: int, key: int, item: int) -> int:
    i = size
    keys[i], items[i] = key, item
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] < keys[i] or (keys[parent] == keys[i] and items[parent] < items[i]):
            break
        keys[i], keys[parent] = keys[parent], keys[i]
        items[i], items[parent] = items[parent], items[i]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(keys: np.ndarray, items: np.ndarray, size: int) -> tuple[int, int]:
    """Removes the smallest (key, item); returns (item, new size)."""
    top = items[0]
    size -= 1
    keys[0], items[0] = keys[size], items[size]
    i = 0
    while True:
        left, smallest = 2 * i + 1, i
        for child in (left, left + 1):
            if child < size and (
                keys[child] < keys[smallest]
                or (keys[child] == keys[smallest] and items[child] < items[smallest])
            ):
                smallest = child
        if smallest == i:
            return top, size
        keys[i], keys[smallest] = keys[smallest], keys[i]
        items[i], items[smallest] = items[smallest], items[i]
        i = smallest


@njit(cache=True, nogil=True)
def backward_bounds(
    in_start: np.ndarray,
    in_lane: np.ndarray,
    lane_origin: np.ndarray,
    lane_weight: np.ndarray,
    usable: np.ndarray,
    destination: int,
) -> np.ndarray:
    """Least total `lane_weight` from every node to `destination` over usable lanes (inf: none)."""
    nodes = in_start.shape[0] - 1
    best = np.full(nodes, np.inf)
    done = np.zeros(nodes, dtype=np.bool_)
    best[destination] = 0.0
    # a float-keyed heap: (distance, node) pairs in two arrays
    keys = np.empty(in_lane.shape[0] + 1, dtype=np.float64)
    items = np.empty(in_lane.shape[0] + 1, dtype=np.int64)
    keys[0], items[0], size = 0.0, destination, 1
    while size > 0:
        node, distance = items[0], keys[0]
        size -= 1
        keys[0], items[0] = keys[size], items[size]
        _sift_down(keys, items, size)
        if done[node]:
            continue
        done[node] = True
        for k in range(in_start[node], in_start[node + 1]):
            lane = in_lane[k]
            if not usable[lane]:
                continue
            origin = lane_origin[lane]
            candidate = distance + lane_weight[lane]
            if candidate < best[origin]:
                best[origin] = candidate
                size = _float_push(keys, items, size, candidate, origin)
    return best


@njit(cache=True, nogil=True)
def hop_bounds(
    in_start: np.ndarray,
    in_lane: np.ndarray,
    lane_origin: np.ndarray,
    usable: np.ndarray,
    no_transit: np.ndarray,
    destination: int,
) -> np.ndarray:
    """The fewest legs from every node to `destination` over usable lanes, passing through no node
    in `no_transit` (NO_ROUTE: none): a breadth-first search backwards."""
    nodes = in_start.shape[0] - 1
    hops = np.full(nodes, NO_ROUTE, dtype=np.int64)
    queue = np.empty(nodes, dtype=np.int64)
    hops[destination], queue[0], head, tail = 0, destination, 0, 1
    while head < tail:
        node = queue[head]
        head += 1
        if node != destination and no_transit[node]:
            continue  # a route may start here, not pass through: nothing before it counts
        for k in range(in_start[node], in_start[node + 1]):
            lane = in_lane[k]
            origin = lane_origin[lane]
            if usable[lane] and hops[origin] == NO_ROUTE:
                hops[origin] = hops[node] + 1
                queue[tail] = origin
                tail += 1
    return hops


@njit(cache=True, nogil=True)
def joined_bounds(
    rows: np.ndarray,
    origins: np.ndarray,
    handling: np.ndarray,
    lane_minutes: np.ndarray,
    lane_cents: np.ndarray,
    lane_micrograms: np.ndarray,
    feed_time: np.ndarray,
    feed_cost: np.ndarray,
    feed_micrograms: np.ndarray,
    destination: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds towards `destination` from those towards the origins of the lanes into it (lane k comes
    from `origins[k]`, whose bounds are row `rows[k]` of the feed arrays, inf where out of reach): the
    least over the lanes of (to the origin, plus its handling unless starting there, plus the lane).
    All whole numbers, so exact. Float arrays with inf where out of reach, like `backward_bounds`."""
    nodes = feed_time.shape[1]
    time = np.full(nodes, np.inf)
    cents = np.full(nodes, np.inf)
    micrograms = np.full(nodes, np.inf)
    for k in range(rows.shape[0]):
        row, origin = rows[k], origins[k]
        for node in range(nodes):
            passing = 0 if node == origin else handling[origin]
            time[node] = min(time[node], feed_time[row, node] + passing + lane_minutes[k])
            cents[node] = min(cents[node], feed_cost[row, node] + lane_cents[k])
            micrograms[node] = min(micrograms[node], feed_micrograms[row, node] + lane_micrograms[k])
    time[destination] = cents[destination] = micrograms[destination] = 0.0
    return time, cents, micrograms


@njit(cache=True, nogil=True)
def _float_push(keys: np.ndarray, items: np.ndarray, size: int, key: float, item: int) -> int:
    i = size
    keys[i], items[i] = key, item
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[i], keys[parent] = keys[parent], keys[i]
        items[i], items[parent] = items[parent], items[i]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _sift_down(keys: np.ndarray, items: np.ndarray, size: int) -> None:
    i = 0
    while True:
        left, smallest = 2 * i + 1, i
        if left < size and keys[left] < keys[smallest]:
            smallest = left
        if left + 1 < size and keys[left + 1] < keys[smallest]:
            smallest = left + 1
        if smallest == i:
            return
        keys[i], keys[smallest] = keys[smallest], keys[i]
        items[i], items[smallest] = items[smallest], items[i]
        i = smallest


@njit(cache=True, nogil=True)
def _dominates(t1: int, c1: int, e1: float, t2: int, c2: int, e2: float, tol: np.ndarray) -> bool:
    return t1 <= t2 + tol[0] and c1 <= c2 + tol[1] and e1 <= e2 + tol[2] + EPSILON_G


@njit(cache=True, nogil=True)
def search(
    out_start: np.ndarray,
    lane_dest: np.ndarray,
    lane_transit: np.ndarray,
    lane_cost: np.ndarray,
    lane_grams: np.ndarray,
    lane_usable: np.ndarray,
    lane_schedule: np.ndarray,
    lane_zone: np.ndarray,
    schedule_start: np.ndarray,
    schedule_offsets: np.ndarray,
    schedule_cutoff: np.ndarray,
    zone_table: np.ndarray,
    first_day: int,
    handling: np.ndarray,
    no_transit: np.ndarray,
    bound_t: np.ndarray,
    bound_c: np.ndarray,
    bound_e: np.ndarray,
    full: np.ndarray,
    origin: int,
    destination: int,
    ready: int,
    deadline: int,
    tol: np.ndarray,
    cover: np.ndarray,
    max_legs: int,
    hops: np.ndarray,
    no_node_twice: bool,
    max_labels: int,
    capacity: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The label-setting search. Returns (label count or -1 when `capacity` ran out, parent, lane,
    departs, and the destination's labels); lane -1 marks the origin's label.

    `cover` is 1 + epsilon per criterion: a label (or a label plus its least still to come) is given up
    when a finished route is within that factor of it on every count (time counted from `ready`). Only
    finished routes cover: between labels at other nodes dominance stays exact, as a label a little
    later there can miss a departure the other makes, and slack taken at each node would compound.
    `max_legs` 0 is no limit; with one, a label beats another only with no more legs, and a label
    whose legs so far plus the fewest still needed (`hops`, see `hop_bounds`) exceed it is dropped."""
    lab_node = np.empty(capacity, dtype=np.int64)
    lab_t = np.empty(capacity, dtype=np.int64)
    lab_c = np.empty(capacity, dtype=np.int64)
    lab_e = np.empty(capacity, dtype=np.float64)
    lab_legs = np.empty(capacity, dtype=np.int64)
    lab_parent = np.empty(capacity, dtype=np.int64)
    lab_lane = np.empty(capacity, dtype=np.int64)
    lab_dep = np.empty(capacity, dtype=np.int64)
    lab_dead = np.zeros(capacity, dtype=np.bool_)
    heap_keys = np.empty(capacity, dtype=np.int64)
    heap_items = np.empty(capacity, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    nodes = out_start.shape[0] - 1
    # rows of untouched nodes are never read: only the pages of nodes reached are ever mapped in
    bags = (
        np.empty((nodes, max_labels), dtype=np.int64),
        np.empty((nodes, max_labels), dtype=np.int64),
        np.empty((nodes, max_labels), dtype=np.float64),
        np.empty((nodes, max_labels), dtype=np.int64),
        np.zeros(nodes, dtype=np.int64),
    )
    bag_t, bag_c, bag_e, bag_label, size = bags
    # legs count only under a limit: without one, fewer legs buys nothing
    legs_of = lab_legs if max_legs > 0 else np.zeros(0, dtype=np.int64)

    lab_node[0], lab_t[0], lab_c[0], lab_e[0], lab_legs[0] = origin, ready, 0, 0.0, 0
    lab_parent[0], lab_lane[0], lab_dep[0] = -1, -1, ready
    bag_t[origin, 0], bag_c[origin, 0], bag_e[origin, 0], bag_label[origin, 0] = ready, 0, 0.0, 0
    size[origin], count = 1, 1
    # Seeds (see routing's module notes): for each criterion, the route that follows its bound's
    # shortest path, run on the timetables; a feasible one is a finished route from the start, so the
    # cover prunes cheap and green labels long before the search would reach those routes itself.
    for criterion in range(3):
        at, label, legs = origin, 0, 0
        while at != destination and label >= 0:
            chosen, least = -1, np.inf
            for lane in range(out_start[at], out_start[at + 1]):
                to = lane_dest[lane]
                if bound_t[to] >= NO_ROUTE or not lane_usable[lane] or (no_transit[to] and to != destination):
                    continue
                if max_legs > 0 and legs + 1 + hops[to] > max_legs:
                    continue
                if no_node_twice and _visits(lab_node, lab_parent, label, to):
                    continue
                if criterion == 0:
                    passing = handling[to] if to != destination else 0
                    weight = float(lane_transit[lane] + passing + bound_t[to])
                elif criterion == 1:
                    weight = float(lane_cost[lane] + bound_c[to])
                else:
                    weight = lane_grams[lane] + bound_e[to]
                if weight < least:
                    chosen, least = lane, weight
            if chosen < 0 or count == capacity:
                label = -1
                break
            departs = lab_t[label] + (handling[at] if lab_parent[label] >= 0 else 0)
            schedule = lane_schedule[chosen]
            if schedule >= 0:
                weekly = schedule_offsets[schedule_start[schedule] : schedule_start[schedule + 1]]
                departs = _departure_with_room(
                    chosen, departs, weekly, schedule_cutoff[schedule], zone_table[lane_zone[chosen]],
                    first_day, full,
                )  # fmt: skip
            if departs >= NO_ROUTE or departs + lane_transit[chosen] > deadline:
                label = -1
                break
            at, legs = lane_dest[chosen], legs + 1
            # a row of the seed's path only: in no bag and never expanded
            lab_node[count], lab_t[count] = at, departs + lane_transit[chosen]
            lab_c[count], lab_e[count] = lab_c[label] + lane_cost[chosen], lab_e[label] + lane_grams[chosen]
            lab_legs[count], lab_parent[count], lab_lane[count], lab_dep[count] = legs, label, chosen, departs
            label, count = count, count + 1
        if label < 0 or _covered(
            bags, destination, ready, lab_t[label], lab_c[label], lab_e[label], tol, cover
        ):
            continue
        _drop_beaten(bags, empty, lab_dead, destination, lab_t[label], lab_c[label], lab_e[label], legs)
        slot = size[destination]
        if slot < max_labels:
            bag_t[destination, slot], bag_c[destination, slot] = lab_t[label], lab_c[label]
            bag_e[destination, slot], bag_label[destination, slot] = lab_e[label], label
            size[destination] = slot + 1
    heap_size = _heap_push(heap_keys, heap_items, 0, ready + bound_t[origin], 0)
    while heap_size > 0:
        label, heap_size = _heap_pop(heap_keys, heap_items, heap_size)
        node = lab_node[label]
        if lab_dead[label] or node == destination:
            continue
        if _covered(
            bags, destination, ready,
            lab_t[label] + bound_t[node], lab_c[label] + bound_c[node], lab_e[label] + bound_e[node],
            tol, cover,
        ):  # fmt: skip
            continue
        legs = lab_legs[label] + 1
        leave = lab_t[label] + (handling[node] if lab_parent[label] >= 0 else 0)
        for lane in range(out_start[node], out_start[node + 1]):
            to = lane_dest[lane]
            if bound_t[to] >= NO_ROUTE or not lane_usable[lane] or (no_transit[to] and to != destination):
                continue
            if max_legs > 0 and legs + hops[to] > max_legs:
                continue  # the destination is more legs away than the limit leaves
            departs = leave
            schedule = lane_schedule[lane]
            if schedule >= 0:
                departs = _departure_with_room(
                    lane, leave, schedule_offsets[schedule_start[schedule] : schedule_start[schedule + 1]],
                    schedule_cutoff[schedule], zone_table[lane_zone[lane]], first_day, full,
                )  # fmt: skip
                if departs >= NO_ROUTE:
                    continue
            arrives = departs + lane_transit[lane]
            if arrives + bound_t[to] > deadline:
                continue
            cost = lab_c[label] + lane_cost[lane]
            grams = lab_e[label] + lane_grams[lane]
            # no check changes anything, so their order does not change the routes; the node's
            # own bag first was the faster order in the one run that compared them
            if to == destination:
                if _covered(bags, to, ready, arrives, cost, grams, tol, cover):
                    continue
            elif _bag_beats(bags, legs_of, to, arrives, cost, grams, legs, tol) or _covered(
                bags, destination, ready,
                arrives + bound_t[to], cost + bound_c[to], grams + bound_e[to], tol, cover,
            ):  # fmt: skip
                continue
            if no_node_twice and _visits(lab_node, lab_parent, label, to):
                continue
            # finished routes drop what they beat whatever its legs: none returned beats another
            beaten_legs = legs_of if to != destination else empty
            _drop_beaten(bags, beaten_legs, lab_dead, to, arrives, cost, grams, legs)
            if size[to] >= max_labels:
                continue
            if count == capacity:
                return -1, empty, empty, empty, empty
            lab_node[count], lab_t[count], lab_c[count], lab_e[count] = to, arrives, cost, grams
            lab_legs[count] = legs
            lab_parent[count], lab_lane[count], lab_dep[count] = label, lane, departs
            slot = size[to]
            bag_t[to, slot], bag_c[to, slot], bag_e[to, slot] = arrives, cost, grams
            bag_label[to, slot] = count
            size[to] = slot + 1
            heap_size = _heap_push(heap_keys, heap_items, heap_size, arrives + bound_t[to], count)
            count += 1
    finished = bag_label[destination, : size[destination]].copy()
    return count, lab_parent[:count].copy(), lab_lane[:count].copy(), lab_dep[:count].copy(), finished


@njit(cache=True, nogil=True)
def _visits(lab_node: np.ndarray, lab_parent: np.ndarray, label: int, node: int) -> bool:
    """The path of `label` (at most the leg limit long) passes through `node`."""
    while label >= 0:
        if lab_node[label] == node:
            return True
        label = lab_parent[label]
    return False


@njit(cache=True, nogil=True)
def _departure_with_room(
    lane: int,
    ready: int,
    offsets: np.ndarray,
    cutoff: int,
    zone_offsets: np.ndarray,
    first_day: int,
    full: np.ndarray,
) -> int:
    """The first departure at or after `ready` not listed in `full` (sorted lane << 32 | minute keys)."""
    departs = next_departure(ready, cutoff, offsets, zone_offsets, first_day)
    while full.shape[0] > 0 and departs < NO_ROUTE:
        key = (lane << 32) | departs
        at = np.searchsorted(full, key)
        if at == full.shape[0] or full[at] != key:
            break
        departs = next_departure(departs + 1, cutoff, offsets, zone_offsets, first_day)
    return departs


@njit(cache=True, nogil=True)
def _bag_beats(
    bags: Bags, legs_of: np.ndarray, node: int, t: int, c: int, e: float, legs: int, tol: np.ndarray
) -> bool:
    """A label in the node's bag is as good as (t, c, e) on every count, give or take `tol`, and has no
    more legs (when `legs_of` holds them: under a leg limit)."""
    bag_t, bag_c, bag_e, bag_label, size = bags
    for slot in range(size[node]):
        if _dominates(bag_t[node, slot], bag_c[node, slot], bag_e[node, slot], t, c, e, tol) and (
            legs_of.shape[0] == 0 or legs_of[bag_label[node, slot]] <= legs
        ):
            return True
    return False


@njit(cache=True, nogil=True)
def _covered(
    bags: Bags, node: int, ready: int, t: int, c: int, e: float, tol: np.ndarray, cover: np.ndarray
) -> bool:
    """A finished route in the bag is within `cover` (1 + epsilon: times counted from `ready`), give
    or take `tol`, of (t, c, e) on every count."""
    bag_t, bag_c, bag_e, _label, size = bags
    for slot in range(size[node]):
        if (
            bag_t[node, slot] - ready <= cover[0] * (t - ready) + tol[0]
            and bag_c[node, slot] <= cover[1] * c + tol[1]
            and bag_e[node, slot] <= cover[2] * e + tol[2] + EPSILON_G
        ):
            return True
    return False


@njit(cache=True, nogil=True)
def _drop_beaten(
    bags: Bags, legs_of: np.ndarray, lab_dead: np.ndarray, node: int, t: int, c: int, e: float, legs: int
) -> None:
    """Marks dead, and takes out of the node's bag, the labels that (t, c, e) beats outright (and, under
    a leg limit, with no more legs)."""
    bag_t, bag_c, bag_e, bag_label, size = bags
    slot = 0
    while slot < size[node]:
        # outright (no tolerance); written out, not through `_dominates`, which would need a zero
        # tolerance array made on every call: an allocation per candidate label
        if (
            t <= bag_t[node, slot]
            and c <= bag_c[node, slot]
            and e <= bag_e[node, slot] + EPSILON_G
            and (legs_of.shape[0] == 0 or legs <= legs_of[bag_label[node, slot]])
        ):
            lab_dead[bag_label[node, slot]] = True
            last = size[node] - 1  # the bag's order does not matter: move its last label here
            bag_t[node, slot], bag_c[node, slot] = bag_t[node, last], bag_c[node, last]
            bag_e[node, slot], bag_label[node, slot] = bag_e[node, last], bag_label[node, last]
            size[node] = last
        else:
            slot += 1
