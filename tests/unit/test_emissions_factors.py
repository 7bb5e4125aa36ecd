"""Factor tables as data: the shipped default, user tables with precedence, malformed files rejected."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from entrepot.emissions.defaults import default_table, default_text
from entrepot.emissions.factors import FactorFileError, FactorSet, RowError, parse_factor_csv

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "emission-factors.csv"


def test_the_default_table_ships_the_reference_values_with_their_sources() -> None:
    table = default_table()
    assert table.label == "desnz-2025@1" and table.kind == "default"
    shipped = {(f.mode, f.vehicle, f.energy): (f.ttw, f.wtt, f.wtw, f.source) for f in table.factors}
    rows = list(csv.DictReader(io.StringIO(default_text())))
    assert len(shipped) == len(rows) == 16  # 12 freight categories, 4 local couriers' modes
    # belly hold is a category of its own, at DESNZ's one figure per haul band (not split by aircraft)
    for haul in ("short_haul", "long_haul"):
        belly = shipped[("air", f"belly_hold_{haul}", "kerosene")]
        assert belly[:3] == shipped[("air", f"freighter_{haul}", "kerosene")][:3]
    if REFERENCE.exists():  # beside the repository in the workplace; the package copy stands alone
        for row in csv.DictReader(REFERENCE.open()):
            key = (row["mode"], row["vehicle"], row["energy"])
            values = tuple(float(row[f"{p}_g_co2e_per_tkm"]) for p in ("ttw", "wtt", "wtw"))
            assert shipped[key] == (*values, row["source"])


def test_precedence_carrier_then_regional_then_default() -> None:
    regional = parse_factor_csv(
        f"{HEADER}\nroad,hgv_all,diesel,80,20,100,GLEC v3 Asia\n", "asia", 1, "regional"
    )
    carrier = parse_factor_csv(
        f"{HEADER},carrier\nroad,hgv_all,diesel,50,10,60,carrier telematics 2025,Kerry\n",
        "kerry",
        1,
        "carrier",
    )
    factors = FactorSet.ordered([default_table(), regional, carrier])
    assert factors.labels == ["kerry@1", "asia@1", "desnz-2025@1"]
    kerry = factors.resolve("road", "hgv_all", "diesel", 100, "Kerry")
    other = factors.resolve("road", "hgv_all", "diesel", 100, "SF")
    rail = factors.resolve("rail", "freight_train", "mixed", 100, "Kerry")
    assert kerry is not None and kerry.wtw == 60
    assert other is not None and other.wtw == 100  # carrier data is the carrier's only
    assert rail is not None and rail.table == "desnz-2025@1"
    newer = parse_factor_csv(
        f"{HEADER}\nroad,hgv_all,diesel,70,20,90,GLEC v3 Asia\n", "asia-2", 1, "regional"
    )
    latest = FactorSet.ordered([default_table(), regional, newer]).resolve("road", "hgv_all", "diesel")
    assert latest is not None and latest.wtw == 90  # of one kind, the table loaded last


def rejected(text: str, kind: str = "regional") -> list[tuple[int, str]]:
    with pytest.raises(FactorFileError) as caught:
        parse_factor_csv(text, "user", 1, kind)
    return [(e.row, e.reason) for e in caught.value.errors]


def test_malformed_files_are_rejected_with_the_row_and_the_reason() -> None:
    assert rejected("mode,vehicle\nroad,van\n") == [
        (1, "missing columns: energy, ttw_g_co2e_per_tkm, wtt_g_co2e_per_tkm, wtw_g_co2e_per_tkm, source")
    ]
    assert rejected(f"{HEADER},colour\n") == [(1, "unknown columns: colour")]
    # a repeated column would otherwise load, the last one silently winning
    assert rejected(f"{HEADER},mode\nroad,van,diesel,1,1,2,me,rail\n") == [(1, "duplicate column mode")]
    assert rejected(f"{HEADER}\n") == [(1, "no rows")]
    errors = rejected(
        f"{HEADER}\n"
        "road,hgv_all,diesel,102,23,125,ok\n"  # 2: fine
        "road,hgv_all,electric,abc,23,125,x\n"  # 3
        "road,van,diesel,631,151,700,x\n"  # 4
        "boat,van,diesel,1,1,2,x\n"  # 5
        "road,van,diesel,-1,1,0,x\n"  # 6
        "road,van,diesel,1,1,2,\n"  # 7
        "road,hgv_all,diesel,1,1,2,dup\n"  # 8
        "hub,sortation_hub,grid,1,1,2,x\n"  # 9: a hub needs kg/t
        "road,van,diesel,1,1,2,x,extra\n"  # 10
    )
    assert errors == [
        (3, "ttw_g_co2e_per_tkm 'abc' is not a number"),
        (4, "wtw 700 is not ttw 631 + wtt 151 = 782"),
        (5, "mode 'boat' is not one of road, rail, air, sea, inland_waterway, hub, local"),
        (6, "ttw_g_co2e_per_tkm '-1' must be a finite number >= 0"),
        (7, "source is empty"),
        (8, "same category and distances as row 2"),
        (9, "unit 'g/tkm' does not fit mode hub: use kg/t"),
        (10, "more fields than the header has"),
    ]
    assert rejected(f"{HEADER}\nroad,hgv_all,diesel,1,1,2,x\n", kind="carrier") == [
        (2, "carrier is empty: a carrier table's rows name their carrier")
    ]
    bands = f"{HEADER},min_distance_km,max_distance_km\n"
    assert rejected(bands + "air,f,k,1,1,2,x,500,100\n") == [
        (2, "min_distance_km 500 is not below max_distance_km 100")
    ]
    assert rejected(bands + "air,f,k,1,1,2,x,,1000\nair,f,k,1,1,2,x,900,\n") == [
        (3, "same category and distances as row 2")
    ]
    # the csv module gives up on a lone carriage return inside a field (found by the schema fuzz: a 500)
    [(row, reason)] = rejected(f"{HEADER}\nroad,van,diesel,1,1,2,a\rb\n")  # its words vary by Python
    assert (row, reason.split(" - ")[0]) == (2, "not CSV: new-line character seen in unquoted field")
    [(row, reason)] = rejected("mode,\r,x\n")
    assert (row, reason.startswith("not CSV: ")) == (1, True)
    message = str(FactorFileError([RowError(3, "bad"), RowError(4, "worse")]))
    assert message == "factor file rejected: row 3: bad; row 4: worse"


def test_a_hub_table_in_kilograms_per_tonne() -> None:
    table = parse_factor_csv(
        f"{HEADER},unit\nhub,sortation_hub,grid,1.2,0.3,1.5,x,kg/t\n", "hubs", 2, "regional"
    )
    [hub] = table.factors
    assert (hub.unit, hub.wtw, hub.table) == ("kg/t", 1.5, "hubs@2")


def test_a_local_row_is_in_grams_per_vehicle_km() -> None:
    table = parse_factor_csv(
        f"{HEADER},unit\nlocal,ebike,electricity,4.8,1.2,6.0,SG grid x 1.1 kWh/100 km,g/km\n",
        "sg",
        1,
        "regional",
    )
    [ebike] = table.factors
    assert (ebike.unit, ebike.wtw, ebike.category) == ("g/km", 6.0, "local/ebike/electricity")
    assert rejected(f"{HEADER}\nlocal,car,petrol,1,1,2,x\n") == [
        (2, "unit 'g/tkm' does not fit mode local: use g/km")
    ]
    assert rejected(f"{HEADER},unit\nroad,van,diesel,1,1,2,x,g/km\n") == [
        (2, "unit 'g/km' does not fit mode road: use g/tkm")
    ]


def test_the_default_table_prices_each_couriers_mode_from_desnz_2025() -> None:
    """The local rows as DESNZ 2025 states them (TTW + WTT, g per vehicle-km), each with the flat file's
    ids in its note; the e-bike's is an assumed consumption x UK electricity, and says so."""
    local = {f.vehicle: f for f in default_table().factors if f.mode == "local"}
    assert set(local) == {"ebike", "scooter", "car", "walking"}
    assert (local["car"].ttw, local["car"].wtt, local["car"].wtw) == (162.72, 45.99, 208.71)
    assert "25_301_3070_4_1" in local["car"].note and "26_904_3070_4_1" in local["car"].note
    assert (local["scooter"].ttw, local["scooter"].wtt) == (83.19, 21.48)
    assert "25_302_3077_4_1" in local["scooter"].note
    # 1.1 kWh per 100 km x UK 2025: 177.0 g/kWh generation; 45.9 + 18.53 + 3.97 g/kWh upstream and losses
    assert local["ebike"].ttw == pytest.approx(0.011 * 177.0)
    assert local["ebike"].wtt == pytest.approx(0.011 * (45.9 + 18.53 + 3.97))
    assert "assumed" in local["ebike"].source and "not a published factor" in local["ebike"].note
    assert (local["walking"].ttw, local["walking"].wtt, local["walking"].wtw) == (0, 0, 0)
    assert {f.unit for f in local.values()} == {"g/km"}
