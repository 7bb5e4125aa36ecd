"""The chart component's data: what a page hands templates/components.html's `chart` macro.

A chart is drawn in the browser by static/charts.js (Apache ECharts, vendored) from this spec, which
the page embeds as JSON (a `<script type="application/json">`, data the browser never runs, so the
Content-Security-Policy needs no hash for it). The same spec prints the chart's table, its text
alternative: every figure drawn is also in a table a screen reader, a search or a copy can use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["bar", "line"]


@dataclass(frozen=True)
class Series:
    """One named line or set of bars: a value (or None: no figure) per category. Series sharing a
    `stack` are stacked; a `dashed` line reads as a plan or a path, not an actual."""

    name: str
    values: Sequence[float | None]
    stack: str = ""
    dashed: bool = False


@dataclass(frozen=True)
class Level:
    """A horizontal line across the chart at `value`: a target or a threshold."""

    name: str
    value: float


@dataclass(frozen=True)
class Chart:
    """`categories` along the horizontal axis (named `axis`), `series` against them in `unit` (the
    value axis' name and the table's heading); `decimals` for the table's figures."""

    id: str
    title: str
    kind: Kind
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""
    axis: str = ""
    decimals: int = 1
    levels: Sequence[Level] = field(default_factory=tuple)

    def spec(self) -> dict[str, Any]:
        """The JSON the browser draws from."""
        return asdict(self)

    def columns(self) -> list[tuple[str, str]]:
        """The table's headings: the categories' axis, then a column per series (figures, right-aligned)."""
        return [(self.axis, ""), *((s.name, "num") for s in self.series)]

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table: a row per category, a figure per series (`-` where there is none)."""
        return [
            (
                category,
                [_figure(s.values[i] if i < len(s.values) else None, self.decimals) for s in self.series],
            )
            for i, category in enumerate(self.categories)
        ]


def _figure(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class ScatterPoint:
    """A point at (`x`, `y`), coloured by `value` on the chart's colour scale."""

    label: str
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Scatter:
    """Points against two value axes (`x_name`, `y_name`), coloured by a third figure (`value_name`) on
    a continuous scale with its legend (ECharts' visualMap: the full build, see vendor/echarts-6.1.0).
    Drawn by the same `chart` macro: its table lists each point's three figures."""

    id: str
    title: str
    points: Sequence[ScatterPoint]
    x_name: str
    y_name: str
    value_name: str
    label_name: str = "Point"
    decimals: int = 2
    kind: str = "scatter"
    unit: str = ""
    levels: Sequence[Level] = field(default_factory=tuple)

    @property
    def categories(self) -> list[str]:
        """The points' labels: what the macro counts (nothing to draw without them)."""
        return [p.label for p in self.points]

    def spec(self) -> dict[str, Any]:
        return asdict(self)

    def columns(self) -> list[tuple[str, str]]:
        return [(self.label_name, ""), (self.x_name, "num"), (self.y_name, "num"), (self.value_name, "num")]

    def rows(self) -> list[tuple[str, list[str]]]:
        return [(p.label, [_figure(v, self.decimals) for v in (p.x, p.y, p.value)]) for p in self.points]
