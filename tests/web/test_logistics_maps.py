"""The map component's spec and text alternative (web/maps.py) and the scatter chart's (web/charts.py):
what the browser draws is what the tables list."""

from __future__ import annotations

from entrepot.web.charts import Scatter, ScatterPoint
from entrepot.web.maps import Line, Map, Point

POINTS = (
    Point("air-HGH", "air-HGH", 30.23, 120.43, "airport", "CN"),
    Point("air-LAX", "air-LAX", 33.94, -118.41, "airport", "US"),
)


def test_a_line_is_drawn_through_the_points_it_knows() -> None:
    lines = (
        Line("HGH - LAX", ("air-HGH", "air-LAX"), "air"),
        Line("HGH - nowhere", ("air-HGH", "nowhere"), "air"),  # one stop left: nothing to draw
        Line("HGH - nowhere - LAX", ("air-HGH", "nowhere", "air-LAX"), "air", dashed=True),
    )
    spec = Map("m", "Flights", POINTS, lines, ("airport",), ("air",)).spec()
    assert spec["lines"] == [
        {"stops": ["air-HGH", "air-LAX"], "group": "air", "dashed": False},
        {"stops": ["air-HGH", "air-LAX"], "group": "air", "dashed": True},
    ]
    assert [p["id"] for p in spec["points"]] == ["air-HGH", "air-LAX"]
    assert spec["point_groups"] == ["airport"] and spec["line_groups"] == ["air"]


def test_the_tables_list_every_place_and_line() -> None:
    m = Map("m", "Flights", POINTS, (Line("HGH - LAX", ("air-HGH", "air-LAX"), "air", detail="DHL"),))
    assert m.point_rows() == [
        ("air-HGH", ["airport", "30.23", "120.43"]),
        ("air-LAX", ["airport", "33.94", "-118.41"]),
    ]
    assert m.line_rows() == [("HGH - LAX", ["air-HGH - air-LAX", "air", "DHL"])]
    with_country = Map("m", "Flights", POINTS, detail_heading="Country")
    assert with_country.point_columns()[-1] == ("Country", "")
    assert with_country.point_rows()[1][1][-1] == "US"


def test_a_scatter_lists_each_points_three_figures() -> None:
    chart = Scatter(
        "s", "Options", [ScatterPoint("Option 1", 1.375, 9.8, 5.0)], "Days", "Cost", "kg CO2e", "Option"
    )
    assert chart.spec()["kind"] == "scatter" and chart.categories == ["Option 1"]
    assert chart.columns() == [("Option", ""), ("Days", "num"), ("Cost", "num"), ("kg CO2e", "num")]
    assert chart.rows() == [("Option 1", ["1.38", "9.80", "5.00"])]
