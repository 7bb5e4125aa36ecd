"""A plain install has no pyspark: Spark is the optional extra `entrepot[spark]` (make test installs it)."""

from __future__ import annotations

from importlib.metadata import requires

from packaging.requirements import Requirement


def test_a_plain_install_has_no_pyspark_and_the_spark_extra_has() -> None:
    needs = [Requirement(r) for r in requires("entrepot") or []]
    plain = {r.name for r in needs if r.marker is None or r.marker.evaluate({"extra": ""})}
    spark = {r.name for r in needs if r.marker is not None and r.marker.evaluate({"extra": "spark"})}
    assert "pyspark" not in plain and "pyspark" in spark
    assert "ibis-framework" in plain and any(
        r.name == "ibis-framework" and "pyspark" in r.extras for r in needs if r.marker is not None
    )
