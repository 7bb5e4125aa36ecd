"""The default factor table shipped with the package: UK DESNZ 2025 freight factors (the values of
shared/reference/emission-factors.csv with their sources), plus the distance bands that say which air
factor applies at which distance (DESNZ: up to 3,700 km is short haul)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files

from entrepot.emissions.factors import FactorTable, parse_factor_csv

DEFAULT_NAME = "desnz-2025"
DEFAULT_FILE = "desnz_2025.csv"


def default_text() -> str:
    return (files("entrepot.emissions") / "data" / DEFAULT_FILE).read_text(encoding="utf-8")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_table() -> FactorTable:
    """Read once per process: package data, never the network."""
    return parse_factor_csv(default_text(), DEFAULT_NAME, 1, "default")
