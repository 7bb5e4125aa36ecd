"""Standard VRPTW instance files (VRPLIB text, as the Solomon and Gehring-Homberger sets are published
with their best-known `.sol` solutions) read into the domain's values, by the DIMACS convention.

Only what a capacitated problem with time windows and one depot says is read: a file asking for more
(several depots, explicit edge weights) is refused, naming the line, rather than half understood.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from entrepot.kernel.errors import NotFound, ValidationFailed
from entrepot.local_services.domain import (
    DIMACS_SCALE,
    Client,
    Depot,
    Fleet,
    Plan,
    Problem,
    dimacs_matrix,
)

SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "TIME_WINDOW_SECTION", "SERVICE_TIME_SECTION")
HEADER = re.compile(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$")
ROUTE = re.compile(r"^\s*Route\s*#\s*\d+\s*:(.*)$", re.IGNORECASE)
COST = re.compile(r"^\s*Cost\s*:?\s*([0-9.]+)\s*$", re.IGNORECASE)


class BadInstance(ValidationFailed):
    """A file that is not a VRPTW instance or solution this reader understands."""


@dataclass
class Sections:
    header: dict[str, str]
    rows: dict[str, list[list[str]]]


def read_text(path: Path) -> str:
    if path.is_dir():
        raise BadInstance(f"{path}: a folder, not an instance file")
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInstance(f"{path}: cannot be read as text ({exc})") from None


def split_sections(text: str, where: str) -> Sections:
    header: dict[str, str] = {}
    rows: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0] == "EOF":
            continue
        if words[0].endswith("_SECTION"):
            current = rows.setdefault(words[0], [])
        elif (said := HEADER.match(line)) and current is None:
            header[said.group(1)] = said.group(2)
        elif current is not None:
            current.append(words)
        else:
            raise BadInstance(f"{where}: line {number} is neither a 'KEY : value' header nor in a section")
    return Sections(header, rows)


def read_problem(path: Path) -> Problem:
    """The instance at `path`, distances and times in tenths (DIMACS); raises NotFound or BadInstance."""
    where = path.name
    sections = split_sections(read_text(path), where)
    return problem_from(sections, path.stem, where)


def problem_from(sections: Sections, name: str, where: str) -> Problem:
    header = sections.header
    if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise BadInstance(f"{where}: only EUC_2D distances are read, not {header['EDGE_WEIGHT_TYPE']}")
    size = whole(header, "DIMENSION", where)
    coords = table(sections, "NODE_COORD_SECTION", size, 3, where)
    demands = table(sections, "DEMAND_SECTION", size, 2, where)
    windows = table(sections, "TIME_WINDOW_SECTION", size, 3, where)
    services = service_times(sections, header, size, where)
    depot_index = depot_of(sections, where)
    if depot_index != 0:
        raise BadInstance(f"{where}: the depot must be node 1, the first node")
    xs = [row[0] for row in coords]
    ys = [row[1] for row in coords]
    scaled = [[int(DIMACS_SCALE * value) for value in row] for row in windows]
    clients = tuple(
        Client(
            number=i,
            x=xs[i],
            y=ys[i],
            demand=int(demands[i][0]),
            service=int(DIMACS_SCALE * services[i]),
            earliest=scaled[i][0],
            latest=scaled[i][1],
        )
        for i in range(1, size)
    )
    depot = Depot(xs[0], ys[0], scaled[0][0], scaled[0][1])
    fleet = Fleet(whole(header, "VEHICLES", where, default=size - 1), whole(header, "CAPACITY", where))
    matrix = dimacs_matrix(xs, ys)
    try:
        return Problem(header.get("NAME", name), depot, clients, fleet, matrix, matrix, DIMACS_SCALE)
    except ValidationFailed as refused:
        raise BadInstance(f"{where}: {refused.detail}", refused.field_errors) from None


def whole(header: dict[str, str], key: str, where: str, default: int | None = None) -> int:
    if key not in header:
        if default is not None:
            return default
        raise BadInstance(f"{where}: the header has no {key}")
    try:
        return int(header[key])
    except ValueError:
        raise BadInstance(f"{where}: {key} must be a whole number, not {header[key]!r}") from None


def table(sections: Sections, name: str, size: int, width: int, where: str) -> list[list[float]]:
    """The section's rows in node order (1 to size), without their node numbers."""
    rows = sections.rows.get(name)
    if rows is None:
        raise BadInstance(f"{where}: no {name}")
    if len(rows) != size:
        raise BadInstance(f"{where}: {name} has {len(rows)} rows for a DIMENSION of {size}")
    values: list[list[float]] = []
    for expected, row in enumerate(rows, start=1):
        numbers = numeric(row, name, where)
        if len(numbers) != width or numbers[0] != expected:
            raise BadInstance(
                f"{where}: {name} row {expected} should be node {expected} and {width - 1} values"
            )
        values.append(numbers[1:])
    return values


def numeric(row: list[str], name: str, where: str) -> list[float]:
    try:
        return [float(word) for word in row]
    except ValueError:
        raise BadInstance(f"{where}: {name} has a value that is not a number: {' '.join(row)}") from None


def service_times(sections: Sections, header: dict[str, str], size: int, where: str) -> list[float]:
    """Per node from SERVICE_TIME_SECTION, or one SERVICE_TIME for every client (the depot's is 0)."""
    if "SERVICE_TIME_SECTION" in sections.rows:
        return [row[0] for row in table(sections, "SERVICE_TIME_SECTION", size, 2, where)]
    said = header.get("SERVICE_TIME", "0")
    try:
        each = float(said)
    except ValueError:
        raise BadInstance(f"{where}: SERVICE_TIME must be a number, not {said!r}") from None
    return [0.0] + [each] * (size - 1)


def depot_of(sections: Sections, where: str) -> int:
    nodes = [word for row in sections.rows.get("DEPOT_SECTION", [["1"], ["-1"]]) for word in row]
    depots = [word for word in nodes if word != "-1"]
    if len(depots) != 1:
        raise BadInstance(f"{where}: exactly one depot is read, the file names {len(depots)}")
    try:
        return int(depots[0]) - 1
    except ValueError:
        raise BadInstance(f"{where}: DEPOT_SECTION names {depots[0]!r}, not a node") from None


@dataclass(frozen=True)
class BestKnown:
    plan: Plan
    cost: float


def read_solution(path: Path) -> BestKnown:
    """A `.sol` file: one `Route #k: clients...` line per route and `Cost X`."""
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for line in read_text(path).splitlines():
        if route := ROUTE.match(line):
            try:
                routes.append(tuple(int(word) for word in route.group(1).split()))
            except ValueError:
                raise BadInstance(f"{path.name}: a route with a client that is not a number") from None
        elif said := COST.match(line):
            cost = float(said.group(1))
    if cost is None or not routes:
        raise BadInstance(f"{path.name}: a solution needs 'Route #k:' lines and a 'Cost' line")
    return BestKnown(Plan(tuple(routes)), cost)


def default_data_dir() -> Path | None:
    """Where the standard instances are: ENTREPOT_VRPTW_DATA, or shared/data/vrptw beside the checkout
    (the project never ships them nor depends on them); None when there is none."""
    said = os.environ.get("ENTREPOT_VRPTW_DATA")
    checkout = Path(__file__).resolve().parents[3]
    candidates = [Path(said)] if said else [Path.cwd().parent, checkout.parent]
    for root in candidates:
        folder = root if said else root / "shared" / "data" / "vrptw"
        if folder.is_dir():
            return folder
    return None
