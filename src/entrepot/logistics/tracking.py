"""The shipment's state machine, replayed from carrier scans in the order they happened.

Carriers send scans late, twice, or out of order. We keep every scan and derive the status by replaying
them sorted by when they occurred: a scan that the state machine does not allow at that point (say,
`departed` after `delivered`) is kept but not applied, and a late scan slots into its place in time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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
)
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


def replay(scans: Iterable[Scan]) -> Replayed:
    status, applied, delivered_at, last = "label_created", set(), None, None
    for scan in sorted(scans, key=lambda s: (s.occurred_at, EVENT_TYPES.index(s.type), s.event_id)):
        if scan.type not in ALLOWED[status]:
            continue
        status = scan.type
        applied.add(scan.event_id)
        last = scan
        if status == "delivered":
            delivered_at = scan.occurred_at
    return Replayed(status, frozenset(applied), delivered_at, last)
