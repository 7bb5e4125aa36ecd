"""Emission factor tables as data: parsing a CSV (rejected whole, with the row and the reason, when any
row is wrong), and choosing the factor for a transport or hub operation across tables by precedence.

File format (the default table's header; extra columns are optional):
    mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source,note,
    carrier,min_distance_km,max_distance_km,unit
- mode: road, rail, air, sea, inland_waterway, or `hub` for a hub operation (then `vehicle` names the
  hub kind, e.g. sortation_hub, and `unit` must be `kg/t`: the three value columns are kg CO2e per tonne
  handled), or `local` for a local courier's vehicle (then `vehicle` is the courier's mode, e.g. ebike,
  and `unit` must be `g/km`: g CO2e per vehicle-km, as a trip's emissions are its kilometres, not its
  tonne-km). Legs are `g/tkm` (the default unit).
- wtw must equal ttw + wtt (to 0.05, as published figures are rounded).
- min/max_distance_km state which distances a row applies to (min inclusive, max exclusive): that is how a
  table says which air factor applies at which distance (the default: DESNZ's 3,700 km short/long haul).
- carrier: required in a carrier table (primary data applies only to that carrier's legs).

Precedence: carrier primary data > user regional tables > the default table; among tables of one kind,
the one loaded last wins. A table may be scoped to countries (ISO 3166 alpha-2; a regional table must
be): it then answers only for an operation wholly inside them (a leg whose origin and destination
countries are both in scope, a hub in a country in scope), so an Asian table never prices a European leg.
Within a table an exact vehicle beats a vehicle family (a request for
`freighter` matches `freighter_short_haul` and `freighter_long_haul`, and the distance band decides).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

LEG_MODES = ("road", "rail", "air", "sea", "inland_waterway")
HUB = "hub"
LOCAL = "local"  # a local courier's trip (on-demand delivery): per vehicle-km
KINDS = ("carrier", "regional", "default")  # in order of precedence
LEG_UNIT, HUB_UNIT, LOCAL_UNIT = "g/tkm", "kg/t", "g/km"
UNIT_OF_MODE = {HUB: HUB_UNIT, LOCAL: LOCAL_UNIT}  # every other mode is a leg's: LEG_UNIT
REQUIRED = (
    "mode",
    "vehicle",
    "energy",
    "ttw_g_co2e_per_tkm",
    "wtt_g_co2e_per_tkm",
    "wtw_g_co2e_per_tkm",
    "source",
)
OPTIONAL = ("note", "carrier", "min_distance_km", "max_distance_km", "unit")
WTW_TOLERANCE = 0.05
MAX_ROWS = 100_000
MAX_TEXT = 300


@dataclass(frozen=True)
class Factor:
    """One row of a factor table, with where it came from: everything an auditor needs to follow a figure."""

    table: str  # "name@version"
    row: int  # line in the file (the header is line 1)
    mode: str
    vehicle: str
    energy: str
    ttw: float
    wtt: float
    wtw: float
    source: str
    note: str = ""
    carrier: str = ""
    min_km: float | None = None
    max_km: float | None = None
    unit: str = LEG_UNIT

    def covers(self, distance_km: float) -> bool:
        return (self.min_km is None or distance_km >= self.min_km) and (
            self.max_km is None or distance_km < self.max_km
        )

    @property
    def category(self) -> str:
        carrier = f" ({self.carrier})" if self.carrier else ""
        return f"{self.mode}/{self.vehicle}/{self.energy}{carrier}"


COUNTRY = re.compile(r"[A-Z]{2}")
MAX_COUNTRIES = 250


@dataclass(frozen=True)
class FactorTable:
    name: str
    version: int
    kind: str
    factors: tuple[Factor, ...]
    countries: frozenset[str] | None = None  # None: everywhere

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def applies_in(self, countries: tuple[str, ...]) -> bool:
        """Whether the table answers for an operation in `countries` (unknown countries: only unscoped)."""
        if self.countries is None:
            return True
        return bool(countries) and all(c in self.countries for c in countries)


def parse_countries(text: str) -> frozenset[str]:
    """A scope as typed: ISO 3166 alpha-2 codes separated by commas or spaces ("CN, SG MY")."""
    codes = [c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip()]
    bad = [c for c in codes if not COUNTRY.fullmatch(c)]
    if bad or not codes or len(codes) > MAX_COUNTRIES:
        shown = f": {', '.join(bad[:5])}" if bad else ""
        raise ValueError(f"must be 1-{MAX_COUNTRIES} ISO 3166 alpha-2 country codes such as CN, SG{shown}")
    return frozenset(codes)


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str


@dataclass
class FactorFileError(Exception):
    """A factor file that cannot be loaded; nothing of it is."""

    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "; ".join(f"row {e.row}: {e.reason}" for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        return f"factor file rejected: {shown}{more}"


def parse_factor_csv(text: str, name: str, version: int, kind: str) -> FactorTable:
    """The table in `text`, or FactorFileError listing every bad row (row numbers count the header as 1)."""
    if kind not in KINDS:
        raise FactorFileError([RowError(0, f"kind must be one of {', '.join(KINDS)}")])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _parse_table(reader, name, version, kind)
    except csv.Error as error:  # a line break inside an unquoted field, say: the reader stops there
        # line_num counts the lines read whole, so the line it stopped on is the next
        raise FactorFileError([RowError(reader.line_num + 1, f"not CSV: {error}")]) from None


def _parse_table(reader: csv.DictReader[str], name: str, version: int, kind: str) -> FactorTable:
    header = [h.strip() for h in reader.fieldnames or []]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:  # a reader of dicts would silently keep the last one's values
        raise FactorFileError([RowError(1, f"duplicate column {', '.join(repeated)}")])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FactorFileError([RowError(1, f"missing columns: {', '.join(missing)}")])
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise FactorFileError([RowError(1, f"unknown columns: {', '.join(unknown)}")])
    reader.fieldnames = header
    label = f"{name}@{version}"
    factors: list[Factor] = []
    errors: list[RowError] = []
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            errors.append(RowError(line, f"more than {MAX_ROWS} rows"))
            break
        try:
            factors.append(_factor(label, line, raw, kind))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
    if not factors and not errors:
        errors.append(RowError(1, "no rows"))
    errors += _conflicts(factors)
    if errors:
        raise FactorFileError(sorted(errors, key=lambda e: e.row))
    return FactorTable(name, version, kind, tuple(factors))


def _factor(label: str, line: int, raw: dict[str | None, str | list[str] | None], kind: str) -> Factor:
    if None in raw:
        raise ValueError("more fields than the header has")
    row = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str) and not isinstance(v, list)}
    mode = row["mode"]
    if mode not in (*LEG_MODES, HUB, LOCAL):
        raise ValueError(f"mode {mode!r} is not one of {', '.join((*LEG_MODES, HUB, LOCAL))}")
    for column in ("vehicle", "energy", "source"):
        if not row[column]:
            raise ValueError(f"{column} is empty")
    if any(len(v) > MAX_TEXT for v in row.values()):
        raise ValueError(f"a field is longer than {MAX_TEXT} characters")
    ttw, wtt, wtw = (_number(row, f"{part}_g_co2e_per_tkm") for part in ("ttw", "wtt", "wtw"))
    if abs(ttw + wtt - wtw) > WTW_TOLERANCE:
        raise ValueError(f"wtw {wtw:g} is not ttw {ttw:g} + wtt {wtt:g} = {ttw + wtt:g}")
    unit = row.get("unit") or LEG_UNIT  # hub and local rows say theirs: the columns are named for legs
    expected = UNIT_OF_MODE.get(mode, LEG_UNIT)
    if unit != expected:
        raise ValueError(f"unit {unit!r} does not fit mode {mode}: use {expected}")
    carrier = row.get("carrier", "")
    if kind == "carrier" and not carrier:
        raise ValueError("carrier is empty: a carrier table's rows name their carrier")
    min_km, max_km = _optional_number(row, "min_distance_km"), _optional_number(row, "max_distance_km")
    if min_km is not None and max_km is not None and min_km >= max_km:
        raise ValueError(f"min_distance_km {min_km:g} is not below max_distance_km {max_km:g}")
    return Factor(
        label,
        line,
        mode,
        row["vehicle"],
        row["energy"],
        ttw,
        wtt,
        wtw,
        row["source"],
        row.get("note", ""),
        carrier,
        min_km,
        max_km,
        unit,
    )


def _number(row: dict[str, str], column: str) -> float:
    text = row[column]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{column} {text!r} must be a finite number >= 0")
    return value


def _optional_number(row: dict[str, str], column: str) -> float | None:
    return _number(row, column) if row.get(column) else None


def _conflicts(factors: Sequence[Factor]) -> list[RowError]:
    """Two rows that would both answer the same question make the table ambiguous."""
    errors = []
    seen: dict[tuple[str, str, str, str], list[Factor]] = {}
    for factor in factors:
        key = (factor.mode, factor.vehicle, factor.energy, factor.carrier)
        for other in seen.get(key, []):
            if _bands_overlap(factor, other):
                errors.append(RowError(factor.row, f"same category and distances as row {other.row}"))
                break
        seen.setdefault(key, []).append(factor)
    return errors


def _bands_overlap(a: Factor, b: Factor) -> bool:
    low = max(a.min_km or 0.0, b.min_km or 0.0)
    high = min(a.max_km if a.max_km is not None else math.inf, b.max_km if b.max_km is not None else math.inf)
    return low < high


@dataclass(frozen=True)
class FactorSet:
    """The tables in force, highest precedence first (see `ordered`)."""

    tables: tuple[FactorTable, ...]

    @classmethod
    def ordered(cls, tables: Iterable[FactorTable]) -> FactorSet:
        """Carrier tables, then regional, then default; within a kind, the later-listed table first."""
        listed = list(tables)
        rank = {kind: i for i, kind in enumerate(KINDS)}
        positions = {id(t): i for i, t in enumerate(listed)}
        return cls(tuple(sorted(listed, key=lambda t: (rank[t.kind], -positions[id(t)]))))

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.tables]

    def resolve(
        self,
        mode: str,
        vehicle: str,
        energy: str | None,
        distance_km: float = 0.0,
        carrier: str = "",
        countries: tuple[str, ...] = (),
    ) -> Factor | None:
        """The factor for an operation, or None when no table has one. `energy=None` takes any energy
        (hub operations); carrier rows apply only to that carrier's operations; a scoped table only to
        operations inside its countries."""
        for table in self.tables:
            if not table.applies_in(countries):
                continue
            found = _in_table(table, mode, vehicle, energy, distance_km, carrier)
            if found is not None:
                return found
        return None


def _in_table(
    table: FactorTable, mode: str, vehicle: str, energy: str | None, distance_km: float, carrier: str
) -> Factor | None:
    family: Factor | None = None
    for f in table.factors:
        if f.mode != mode or (energy is not None and f.energy != energy) or not f.covers(distance_km):
            continue
        if f.carrier and f.carrier != carrier:
            continue
        if f.vehicle == vehicle:
            return f
        if family is None and f.vehicle.startswith(vehicle + "_"):
            family = f
    return family
