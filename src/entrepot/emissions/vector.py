"""The calculation of `domain.leg_emissions`, vectorised with NumPy for many legs at once (recomputing a
period, the benchmark). Same arithmetic in the same order (t-km = g / 1e6 x km; mg = round-half-even of
t-km x factor x 1000), so it gives the row-by-row library's figures to the milligram. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from entrepot.emissions.domain import G_PER_TONNE, MG_PER_G
from entrepot.emissions.factors import HUB, Factor, FactorSet

Request = tuple[str, str, str, str, tuple[str, ...]]  # mode, vehicle, energy, carrier, countries


@dataclass(frozen=True)
class ResolvedFactors:
    """Per leg: the TTW and WTT factor (g/tkm), and which factor it was (-1: none in any table)."""

    ttw: NDArray[np.float64]
    wtt: NDArray[np.float64]
    index: NDArray[np.int64]
    factors: tuple[Factor, ...]


def _edges(factors: FactorSet, request: Request) -> list[float]:
    """Every distance at which the answer to `request` may change: the bands of the rows it could match."""
    mode, vehicle = request[0], request[1]
    edges = {0.0}
    for table in factors.tables:
        for f in table.factors:
            if f.mode == mode and (f.vehicle == vehicle or f.vehicle.startswith(vehicle + "_")):
                edges.update(e for e in (f.min_km, f.max_km) if e is not None)
    return sorted(edges)


def resolve(
    factors: FactorSet,
    requests: Sequence[Request],
    codes: NDArray[np.int64],
    distance_km: NDArray[np.float64],
) -> ResolvedFactors:
    """The factor of each leg (leg i asks `requests[codes[i]]` at `distance_km[i]`): each request is
    resolved once per distance band by the library's own precedence rules, then looked up per leg."""
    found: list[Factor] = []
    slot_of: dict[int, int] = {}
    index = np.full(len(codes), -1, dtype=np.int64)
    for code, request in enumerate(requests):
        mask = codes == code
        if not mask.any():
            continue
        edges = _edges(factors, request)
        answers = np.array(
            [_slot(factors.resolve(*request[:3], e, request[3], request[4]), found, slot_of) for e in edges]
        )
        band = np.searchsorted(np.asarray(edges), distance_km[mask], side="right") - 1
        index[mask] = answers[np.clip(band, 0, len(edges) - 1)]
    ttw_table = np.array([f.ttw for f in found] + [0.0])  # the extra slot answers index -1 with zero
    wtt_table = np.array([f.wtt for f in found] + [0.0])
    return ResolvedFactors(ttw_table[index], wtt_table[index], index, tuple(found))


def _slot(factor: Factor | None, found: list[Factor], slot_of: dict[int, int]) -> int:
    if factor is None:
        return -1
    key = id(factor)
    if key not in slot_of:
        slot_of[key] = len(found)
        found.append(factor)
    return slot_of[key]


def resolve_hubs(
    factors: FactorSet, kinds: Sequence[str | tuple[str, tuple[str, ...]]], codes: NDArray[np.int64]
) -> ResolvedFactors:
    """The factor (kg/t) of each hub operation (operation i is of kind `kinds[codes[i]]`, a kind or a
    kind and its countries): each is resolved once by the library's precedence, then looked up."""
    found: list[Factor] = []
    slot_of: dict[int, int] = {}
    asked = [(k, ()) if isinstance(k, str) else k for k in kinds]
    slots = np.array(
        [_slot(factors.resolve(HUB, kind, None, countries=where), found, slot_of) for kind, where in asked]
        + [-1]
    )
    index = slots[codes] if len(kinds) else np.full(len(codes), -1, dtype=np.int64)
    ttw_table = np.array([f.ttw for f in found] + [0.0])
    wtt_table = np.array([f.wtt for f in found] + [0.0])
    return ResolvedFactors(ttw_table[index], wtt_table[index], index.astype(np.int64), tuple(found))


@dataclass(frozen=True)
class LegArrays:
    tkm: NDArray[np.float64]
    ttw_mg: NDArray[np.int64]
    wtt_mg: NDArray[np.int64]

    @property
    def wtw_mg(self) -> NDArray[np.int64]:
        return self.ttw_mg + self.wtt_mg


def leg_emissions(
    mass_g: NDArray[np.int64],
    distance_km: NDArray[np.float64],
    ttw: NDArray[np.float64],
    wtt: NDArray[np.float64],
) -> LegArrays:
    tkm = mass_g / G_PER_TONNE * distance_km
    ttw_mg = np.rint(tkm * ttw * MG_PER_G).astype(np.int64)
    wtt_mg = np.rint(tkm * wtt * MG_PER_G).astype(np.int64)
    return LegArrays(tkm, ttw_mg, wtt_mg)


def sums_by(groups: NDArray[np.int64], values: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """Integer totals per group (exact: no float weights, unlike np.bincount)."""
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, groups, values)
    return out


@dataclass(frozen=True)
class HubArrays:
    ttw_mg: NDArray[np.int64]
    wtt_mg: NDArray[np.int64]


def hub_emissions(mass_g: NDArray[np.int64], ttw: NDArray[np.float64], wtt: NDArray[np.float64]) -> HubArrays:
    """`domain.hub_emissions` for many operations: tonnes handled x kg/t, to the milligram, in the same
    order of operations (t = g / 1e6; mg = round-half-even of t x factor x 1e6)."""
    tonnes = mass_g / G_PER_TONNE
    ttw_mg = np.rint(tonnes * ttw * G_PER_TONNE).astype(np.int64)
    wtt_mg = np.rint(tonnes * wtt * G_PER_TONNE).astype(np.int64)
    return HubArrays(ttw_mg, wtt_mg)
