"""The shipment's state machine, replayed from carrier scans in the order they happened, and who holds
the parcel when: the rules a carrier's scans must keep.

Carriers send scans late, twice, or out of order. We keep every scan and derive the status by replaying
them sorted by when they occurred: a scan that the state machine does not allow at that point (say,
`departed` after `delivered`) is kept but not applied, and a late scan slots into its place in time.
That leniency is for operators' scans; a carrier's scans are refused unless they fit (`carrier_refusal`).

Custody. A shipment's legs fall into stints, runs of consecutive legs of one carrier. The first stint's
carrier holds the parcel from the start. Where one stint ends and the next begins (a node both share),
the holder scans `handed_over` and the next carrier scans `accepted`, in that order; until the
acceptance neither may scan anything else. Consecutive legs of one carrier need no hand-over. The two
custody scans never change the status: they move only the custody, replayed in time like the status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EVENT_TYPES = (
    "label_created",
    "picked_up",
    "at_hub",
    "departed",
    "arrived",
    "customs_held",
    "customs_cleared",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned_to_sender",
    "handed_over",
    "accepted",
)
HANDED_OVER, ACCEPTED = "handed_over", "accepted"
CUSTODY_TYPES = frozenset({HANDED_OVER, ACCEPTED})
_MOVING = frozenset({"at_hub", "departed", "arrived", "customs_held", "customs_cleared", "out_for_delivery"})
# on its way: picked up and not yet delivered, sent back or in trouble (the order counts as shipped)
MOVING_STATUSES = _MOVING | {"picked_up"}
ALLOWED: dict[str, frozenset[str]] = {
    "label_created": frozenset({"picked_up", "exception"}),
    "picked_up": frozenset({"at_hub", "departed", "exception"}),
    "at_hub": frozenset(
        {"at_hub", "departed", "customs_held", "customs_cleared", "out_for_delivery", "exception"}
    ),
    "departed": frozenset({"arrived", "exception"}),
    "arrived": frozenset(
        {"at_hub", "departed", "customs_held", "customs_cleared", "out_for_delivery", "exception"}
    ),
    "customs_held": frozenset({"customs_cleared", "returned_to_sender", "exception"}),
    "customs_cleared": frozenset({"at_hub", "departed", "out_for_delivery", "exception"}),
    # a failed delivery attempt goes back to the station
    "out_for_delivery": frozenset({"delivered", "at_hub", "exception"}),
    "exception": _MOVING | {"delivered", "returned_to_sender", "exception"},
    "delivered": frozenset(),
    "returned_to_sender": frozenset(),
}
TERMINAL = frozenset({"delivered", "returned_to_sender"})


@dataclass(frozen=True)
class Scan:
    event_id: str
    type: str
    occurred_at: dt.datetime
    node: str | None = None


@dataclass(frozen=True)
class Replayed:
    status: str
    applied: frozenset[str]  # event ids that moved the status
    delivered_at: dt.datetime | None
    last_movement: Scan | None  # the latest applied scan, for ETA


def in_time(scans: Iterable[Scan]) -> list[Scan]:
    """The order every replay reads scans in; at one instant, the state machine's order of types."""
    return sorted(scans, key=lambda s: (s.occurred_at, EVENT_TYPES.index(s.type), s.event_id))


def replay(scans: Iterable[Scan]) -> Replayed:
    """The status the scans lead to. Custody scans are never in ALLOWED, so they never move it."""
    status, applied, delivered_at, last = "label_created", set(), None, None
    for scan in in_time(scans):
        if scan.type not in ALLOWED[status]:
            continue
        status = scan.type
        applied.add(scan.event_id)
        last = scan
        if status == "delivered":
            delivered_at = scan.occurred_at
    return Replayed(status, frozenset(applied), delivered_at, last)


@dataclass(frozen=True)
class Leg:
    origin: str
    destination: str
    carrier: str | None  # None: its lane has left the network, so only operators scan it


@dataclass(frozen=True)
class Stint:
    """Consecutive legs of one carrier: it holds the parcel from `start` to `end`, scanning at `nodes`."""

    carrier: str | None
    start: str
    end: str
    nodes: frozenset[str]


def stints(legs: Sequence[Leg]) -> list[Stint]:
    runs: list[list[Leg]] = []
    for leg in legs:
        if runs and runs[-1][-1].carrier == leg.carrier:
            runs[-1].append(leg)
        else:
            runs.append([leg])
    return [
        Stint(run[0].carrier, run[0].origin, run[-1].destination, frozenset(_nodes_of(run))) for run in runs
    ]


def _nodes_of(legs: list[Leg]) -> Iterable[str]:
    for leg in legs:
        yield from (leg.origin, leg.destination)


@dataclass(frozen=True)
class Holding:
    """The stint holding the parcel; while `handing_over`, that stint has handed it over at its end
    and the next has not accepted it yet, so neither may scan it."""

    stint: int = 0
    handing_over: bool = False


def custody(route: Sequence[Stint], scans: Iterable[Scan]) -> tuple[dict[str, Holding], frozenset[str]]:
    """Replay the custody scans in time: the holding just before each scan (by event id), and the custody
    scans that moved it. One that does not fit (an acceptance with nothing handed over, a hand-over
    away from the holder's last node) is kept out, as the status replay keeps out a forbidden step."""
    holding, before, moved = Holding(), {}, set()
    for scan in in_time(scans):
        before[scan.event_id] = holding
        after = _custody_step(route, holding, scan)
        if after is not None:
            holding = after
            moved.add(scan.event_id)
    return before, frozenset(moved)


def _custody_step(route: Sequence[Stint], holding: Holding, scan: Scan) -> Holding | None:
    if holding.stint + 1 >= len(route) or scan.node != route[holding.stint].end:
        return None
    if scan.type == HANDED_OVER and not holding.handing_over:
        return Holding(holding.stint, handing_over=True)
    if scan.type == ACCEPTED and holding.handing_over:
        return Holding(holding.stint + 1)
    return None


# Why a carrier's scan is refused (tracking_service answers each with its own HTTP status).
NO_STATION = "no_station"  # the scan names no node
NOT_HOLDING = "not_holding"  # the parcel is on another carrier's leg then, or was handed over already
OFF_ROUTE = "off_route"  # not a node of the legs it holds, or a step only the first or last leg makes
NOT_ACCEPTED = "not_accepted"  # handed over to this carrier, which has not accepted it yet
OUT_OF_ORDER = "out_of_order"  # the state machine (or the custody) does not allow it where it lands


@dataclass(frozen=True)
class Refusal:
    event_id: str
    reason: str
    detail: str


def carrier_refusal(
    legs: Sequence[Leg], stored: Sequence[Scan], new: Sequence[Scan], carrier: str
) -> Refusal | None:
    """Why `carrier` may not post the `new` scans (event ids not stored yet) of a parcel on `legs` that
    has the `stored` scans, or None when it may. Taken in time order, each new scan
    - names the node it was made at;
    - falls while the carrier holds the parcel (custody), or accepts a hand-over made to it;
    - is at a node of the legs it holds: picked up at the route's origin; out for delivery and delivered
      by the last stint only, delivered at the route's end; handed over at the end of its stint;
    - moves the status or the custody where it lands in time, and unsettles no stored scan that moved
      the status (carriers get no leniency: a scan that does not fit is refused, not kept aside);
    - if it is a custody scan, is not dated before a stored scan: custody moves as it happens, so a late
      hand-over cannot take the parcel from under scans made since.
    The earliest refused scan is the answer."""
    route = stints(legs)
    holdings, moved_custody = custody(route, [*stored, *new])
    earlier, later = replay(stored), replay([*stored, *new])
    latest = max((scan.occurred_at for scan in stored), default=None)
    for scan in in_time(new):
        refusal = _place_refusal(route, holdings[scan.event_id], scan, carrier)
        if refusal is not None:
            return refusal
        if scan.type in CUSTODY_TYPES and (
            scan.event_id not in moved_custody or (latest is not None and scan.occurred_at < latest)
        ):
            return Refusal(scan.event_id, OUT_OF_ORDER, f"{scan.type} does not fit the parcel's custody then")
        if scan.type not in CUSTODY_TYPES and scan.event_id not in later.applied:
            return Refusal(scan.event_id, OUT_OF_ORDER, f"the state machine does not allow {scan.type} then")
    if not earlier.applied <= later.applied:
        first = in_time(new)[0]
        return Refusal(first.event_id, OUT_OF_ORDER, "the scans would undo steps the parcel has made since")
    return None


def _place_refusal(route: Sequence[Stint], holding: Holding, scan: Scan, carrier: str) -> Refusal | None:
    """Whether the carrier may scan at this node at this point of the custody (see carrier_refusal)."""

    def refuse(reason: str, detail: str) -> Refusal:
        return Refusal(scan.event_id, reason, detail)

    here = route[holding.stint] if route else None
    taker = route[holding.stint + 1] if holding.stint + 1 < len(route) else None
    if scan.node is None:
        return refuse(NO_STATION, "a carrier's scan names the node it was made at")
    if scan.type == ACCEPTED:
        if here is not None and here.carrier == carrier and not holding.handing_over:
            return refuse(OUT_OF_ORDER, "you hold the parcel already then")
        if taker is None or taker.carrier != carrier:
            return refuse(NOT_HOLDING, "the parcel is not being handed over to you then")
        if not holding.handing_over:
            return refuse(OUT_OF_ORDER, f"nothing had been handed over to you at {taker.start} by then")
        return None if scan.node == taker.start else refuse(OFF_ROUTE, f"accept it at {taker.start}")
    if holding.handing_over and taker is not None and taker.carrier == carrier:
        return refuse(NOT_ACCEPTED, f"accept the hand-over at {taker.start} before scanning the parcel")
    if here is None or here.carrier != carrier:
        return refuse(NOT_HOLDING, "the parcel is on a leg another carrier runs then")
    if holding.handing_over:
        return refuse(NOT_HOLDING, f"you had handed the parcel over at {here.end} by then")
    return _station_refusal(route, holding.stint, scan, refuse)


def _station_refusal(
    route: Sequence[Stint], index: int, scan: Scan, refuse: Callable[[str, str], Refusal]
) -> Refusal | None:
    here, last = route[index], index == len(route) - 1
    if scan.node not in here.nodes:
        return refuse(OFF_ROUTE, f"{scan.node} is not a node of the legs you hold the parcel on")
    if scan.type == "picked_up" and (index != 0 or scan.node != here.start):
        return refuse(OFF_ROUTE, f"a parcel is picked up at the start of its route, {route[0].start}")
    if scan.type in ("out_for_delivery", "delivered") and not last:
        return refuse(OFF_ROUTE, "only the last leg's carrier takes a parcel out and delivers it")
    if scan.type == "delivered" and scan.node != here.end:
        return refuse(OFF_ROUTE, f"a parcel is delivered at the end of its route, {here.end}")
    if scan.type == HANDED_OVER and (last or scan.node != here.end):
        return refuse(
            OFF_ROUTE, f"hand a parcel over where your legs end ({here.end}), to the next leg's carrier"
        )
    return None
