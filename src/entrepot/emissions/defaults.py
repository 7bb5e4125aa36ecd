"""The default factor tables shipped with the package: UK DESNZ 2025 freight factors (the values of
shared/reference/emission-factors.csv with their sources), plus the distance bands that say which air
factor applies at which distance (DESNZ: up to 3,700 km is short haul); and the hub operations' default
intensities (GLEC Framework v3.0's logistics-site defaults, kg CO2e per tonne handled), a table of its
own so that either can be replaced without the other.

Hub kinds of the network with no published default keep `missing_factor`, and `HUB_GAPS` says why: a
figure is never made up to fill a gap."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files

from entrepot.emissions.factors import FactorTable, parse_factor_csv

DEFAULT_NAME = "desnz-2025"
DEFAULT_FILE = "desnz_2025.csv"
HUB_NAME = "glec-v3-hubs"
HUB_FILE = "glec_v3_hubs.csv"

# Why a hub kind of the network has no default factor (GLEC v3.0's logistics-site defaults cover
# transhipment, storage and transhipment, warehouses, liquid bulk and maritime container terminals).
HUB_GAPS = {
    "airport": "no published default: GLEC v3.0's logistics-site defaults have no air cargo terminal",
    "rail_terminal": "no published default: GLEC v3.0's logistics-site defaults have no rail terminal",
    "customs_point": "no published default: GLEC v3.0's logistics-site defaults have no land border post",
}


def default_text() -> str:
    return (files("entrepot.emissions") / "data" / DEFAULT_FILE).read_text(encoding="utf-8")


def hub_text() -> str:
    return (files("entrepot.emissions") / "data" / HUB_FILE).read_text(encoding="utf-8")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_table() -> FactorTable:
    """Read once per process: package data, never the network."""
    return parse_factor_csv(default_text(), DEFAULT_NAME, 1, "default")


@lru_cache(maxsize=1)
def hub_table() -> FactorTable:
    return parse_factor_csv(hub_text(), HUB_NAME, 1, "default")


def packaged() -> list[tuple[FactorTable, str]]:
    """The package's default tables with the text each was read from (its digest is stored)."""
    return [(default_table(), default_text()), (hub_table(), hub_text())]


def missing_reason(category: str) -> str:
    """Why an element had no factor, for the audit trail: a named gap, or that no table covered it."""
    mode, _, rest = category.partition("/")
    kind = rest.split("/")[0]
    if mode == "hub" and kind in HUB_GAPS:
        return HUB_GAPS[kind]
    return "no factor table in force covers this category"
