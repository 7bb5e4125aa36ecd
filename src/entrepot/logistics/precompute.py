"""The planner's precomputed lower bounds, kept on disk under the network's fingerprint.

`routing.precompute` computes, per weight floor, the least time, cost and emissions from every node to
every node with a lane into a delivery station (`compiled.FeederBounds`); a query to a station then puts
its bounds together instead of searching the network three times. That takes about a minute on the
10,000-node network, so `entrepot logistics precompute` does it once and writes the arrays to
`var/routes/<fingerprint>/floor-<kg>.npz`; a process that plans (the API at start) loads them when the
fingerprint of its network matches. The fingerprint digests every node and lane (schedules, cut-offs,
capacity, weight limits, costs, handling): any change to a lane, schedule or capacity gives another
fingerprint, so bounds computed for an older network are never used for a newer one (they are stale,
and `load` says so); so does a factor version that weighs its lanes otherwise than the default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from entrepot.logistics import compiled, routing
from entrepot.logistics.domain import Lane, Network

DEFAULT_FOLDER = Path("var/routes")
# the floors checkout's parcels fall in most (rate_cache bands up to 30 kg): the others are searched
DEFAULT_FLOORS_KG = (0.5, 1.0, 2.0, 5.0)


def fingerprint(network: Network) -> str:
    """A digest of everything the bounds (and routes) depend on: nodes and lanes with their schedules,
    cut-offs, capacity and weight limits, in a fixed order."""
    digest = hashlib.sha256()
    for code in sorted(network.nodes):
        digest.update(json.dumps(dataclasses.asdict(network.nodes[code]), sort_keys=True).encode())
    for lane_id in sorted(network.lanes_by_id):
        digest.update(json.dumps(_lane_fields(network.lanes_by_id[lane_id]), default=str).encode())
    return digest.hexdigest()[:32]


def _lane_fields(lane: Lane) -> dict[str, object]:
    """A lane as digested: its emission factor only when the factor version in force overrides the
    default (bounds hold least emissions, so other factors need other bounds), so that a network on the
    default factors keeps the fingerprint it had before lanes carried one."""
    fields = dataclasses.asdict(lane)
    if fields["factor_g_per_tkm"] is None:
        del fields["factor_g_per_tkm"]
    return fields


def _path(folder: Path, network: Network, floor: float) -> Path:
    return folder / fingerprint(network) / f"floor-{floor:g}.npz"


def build(
    network: Network,
    folder: Path | None = None,
    floors: Iterable[float] = DEFAULT_FLOORS_KG,
    threads: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Path]:
    """Compute the bounds for each weight floor (kept on the network for this process too) and write
    them under the network's fingerprint (in DEFAULT_FOLDER unless told); the files written."""
    folder = DEFAULT_FOLDER if folder is None else folder
    written = []
    for floor in floors:
        progress(f"weight floor {floor:g} kg: computing")
        feeders = routing.precompute(network, floor, threads)
        path = _path(folder, network, floor)
        path.parent.mkdir(parents=True, exist_ok=True)
        cost, micrograms, usable = feeders.lanes
        # written whole, then renamed: no half file is read; named by process, as each API worker may
        # compute the same network's bounds at start
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(
            temporary, row=feeders.row, time=feeders.time, cost=feeders.cost, micrograms=feeders.micrograms,
            lane_cost=cost, lane_micrograms=micrograms, lane_usable=usable,
        )  # fmt: skip
        temporary.replace(path)
        progress(f"weight floor {floor:g} kg: {feeders.nbytes / 1e6:,.0f} MB written to {path}")
        written.append(path)
    return written


def load(network: Network, folder: Path | None = None, floors: Iterable[float] = DEFAULT_FLOORS_KG) -> int:
    """Attach the bounds written for this very network (same fingerprint) to its arrays; how many
    floors were found. Files of another fingerprint (a network since changed) are never read. The
    folder defaults to DEFAULT_FOLDER (the command's)."""
    folder = DEFAULT_FOLDER if folder is None else folder
    if not folder.is_dir():
        return 0  # nothing precomputed here: not even the fingerprint is worth computing
    paths = {floor: _path(folder, network, floor) for floor in floors}
    found = 0
    for floor, path in paths.items():
        if not path.exists():
            continue
        net = compiled.compiled(network)
        with np.load(path) as arrays:
            lanes = (arrays["lane_cost"], arrays["lane_micrograms"], arrays["lane_usable"])
            feeders = compiled.FeederBounds(
                arrays["row"], arrays["time"], arrays["cost"], arrays["micrograms"], lanes
            )
        with net.caches_lock:
            net.feeders[floor] = feeders
        found += 1
    return found


def ensure(
    network: Network,
    folder: Path | None = None,
    floors: Iterable[float] = DEFAULT_FLOORS_KG,
    threads: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Path]:
    """Load the bounds written for this network and compute (and write) those of the floors that are
    missing: what a planning process does at start, so that a changed network never plans without
    them until someone runs the command. The files written (none when all were there)."""
    folder = DEFAULT_FOLDER if folder is None else folder
    floors = tuple(floors)
    missing = [floor for floor in floors if not _path(folder, network, floor).exists()]
    load(network, folder, [floor for floor in floors if floor not in missing])
    if missing:
        progress(f"route bounds for network {fingerprint(network)} missing for {len(missing)} weight floors")
    return build(network, folder, missing, threads, progress) if missing else []
