"""The vectorised calculation gives the row-by-row library's figures to the milligram; the benchmark
prints its one summary line last."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.emissions import vector
from entrepot.emissions.bench import draw_legs, row_by_row, vectorised
from entrepot.emissions.defaults import default_table
from entrepot.emissions.domain import Leg, element_emissions
from entrepot.emissions.factors import FactorSet, parse_factor_csv

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source,carrier"


def test_vectorised_legs_match_the_library_leg_by_leg_with_carrier_tables_and_bands() -> None:
    carrier = parse_factor_csv(
        f"{HEADER}\nair,freighter_short_haul,kerosene,500,100,600,primary,CX\n", "cx", 1, "carrier"
    )
    factors = FactorSet.ordered([default_table(), carrier])
    requests: list[vector.Request] = [
        ("air", "freighter", "kerosene", "CX", ()),
        ("air", "freighter", "kerosene", "", ("CN", "SG")),
        ("sea", "x", "y", "", ()),
    ]
    codes = np.array([0, 0, 1, 1, 2], dtype=np.int64)
    distance = np.array([1000.0, 5000.0, 3699.999, 3700.0, 100.0])
    mass = np.array([1234, 999, 30_000, 1, 5], dtype=np.int64)
    resolved = vector.resolve(factors, requests, codes, distance)
    arrays = vector.leg_emissions(mass, distance, resolved.ttw, resolved.wtt)
    for i, code in enumerate(codes.tolist()):
        mode, vehicle, energy, who, where = requests[code]
        one = element_emissions(
            Leg(mode, vehicle, energy, int(mass[i]), float(distance[i]), carrier=who, countries=where),
            factors,
        )
        assert (int(arrays.ttw_mg[i]), int(arrays.wtt_mg[i])) == (one.ttw_mg, one.wtt_mg)
        assert (resolved.index[i] == -1) == one.missing_factor
    assert resolved.factors[int(resolved.index[0])].table == "cx@1"  # carrier data first
    assert vector.sums_by(np.array([0, 1, 0]), np.array([5, 7, 11]), 2).tolist() == [16, 7]


def test_the_benchmark_totals_equal_the_row_by_row_totals() -> None:
    factors = FactorSet((default_table(),))
    legs = draw_legs(20_000, seed=3)
    fast, slow = vectorised(factors, legs), row_by_row(factors, legs, 20_000)
    assert (fast.ttw_mg, fast.wtt_mg) == (slow.ttw_mg, slow.wtt_mg) and fast.wtw_mg > 0


def test_bench_emissions_prints_one_summary_line_last() -> None:
    result = CliRunner().invoke(app, ["bench", "emissions", "--legs", "3000", "--reference-legs", "1000"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("emissions legs=3000 seconds=")
    keys = [pair.split("=")[0] for pair in last.split()[1:]]
    assert keys[:4] == ["legs", "seconds", "legs_per_s", "reference_ratio"]
    assert "totals_identical=true" in last and "reference_legs=1000" in last
