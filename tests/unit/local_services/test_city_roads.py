"""The city's road rules and graphs (issue 22, item 1): speeds by road class and mode, one-way streets
binding vehicles but not walkers, snapping to the mode's network, points off the map, and the cache.
A hand-made map is drawn as an OSM XML file, so these run without the shipped city."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from entrepot.kernel.errors import NotFound, ValidationFailed
from entrepot.local_services import city as city_module
from entrepot.local_services.city import City, CitySource
from entrepot.local_services.roads import Mode, road_kmh, way_direction, way_kmh

# A square block: 1 -> 2 one-way for vehicles, 2 - 3 - 4 - 1 both ways, a footway from 4 north to 9.
NODES = {
    1: (60.000, 25.000),
    2: (60.000, 25.002),
    3: (60.001, 25.002),
    4: (60.001, 25.000),
    9: (60.002, 25.000),
    5: (60.0011, 25.001),  # a door: Kiertotie 7
    6: (59.9998, 25.0009),  # a building's corners: Yksisuuntainen 2 B
    7: (59.9998, 25.0011),
    8: (59.9997, 25.0010),
}
WAYS = [
    (10, [1, 2], {"highway": "residential", "oneway": "yes", "name": "Yksisuuntainen"}),
    (11, [2, 3, 4, 1], {"highway": "residential", "name": "Kiertotie"}),
    (12, [6, 7, 8, 6], {"building": "yes", "addr:street": "Yksisuuntainen", "addr:housenumber": "2 B"}),
    (13, [4, 9], {"highway": "footway"}),
]
DOOR = {"addr:street": "Kiertotie", "addr:housenumber": "7", "addr:postcode": "00100", "addr:city": "Testi"}


def _tags(tags: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def _refs(nodes: list[int]) -> str:
    return "".join(f'<nd ref="{n}"/>' for n in nodes)


def draw(path: Path) -> Path:
    nodes = "".join(
        f'<node id="{n}" version="1" lat="{lat}" lon="{lon}">{_tags(DOOR) if n == 5 else ""}</node>'
        for n, (lat, lon) in NODES.items()
    )
    ways = "".join(f'<way id="{w}" version="1">{_refs(refs)}{_tags(tags)}</way>' for w, refs, tags in WAYS)
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{ways}</osm>', encoding="utf-8")
    return path


@pytest.fixture
def block(tmp_path: Path) -> City:
    source = CitySource("block", "Test block", "tests", draw(tmp_path / "block.osm"))
    return City.load(source, tmp_path / "cache")


def at(node: int) -> tuple[float, float]:
    return NODES[node]


def test_speeds_follow_road_class_and_mode() -> None:
    assert road_kmh("motorway", Mode.CAR) is not None
    assert road_kmh("motorway", Mode.EBIKE) is None
    assert road_kmh("footway", Mode.CAR) is None
    assert road_kmh("footway", Mode.WALKING) == 5.0
    assert road_kmh("steps", Mode.WALKING) < road_kmh("footway", Mode.WALKING)  # type: ignore[operator]
    assert road_kmh("cycleway", Mode.EBIKE) > road_kmh("pedestrian", Mode.EBIKE)  # type: ignore[operator]
    assert road_kmh("no-such-class", Mode.WALKING) is None


def test_access_tags_close_a_way_to_some_modes() -> None:
    private = {"highway": "service", "access": "private"}
    assert way_kmh(private, Mode.CAR) is None
    assert way_kmh(private, Mode.WALKING) is not None  # access= speaks of vehicles here; foot= of walkers
    assert way_kmh({"highway": "footway", "bicycle": "designated"}, Mode.EBIKE) is not None
    assert way_kmh({"highway": "footway"}, Mode.EBIKE) is None
    assert way_kmh({"highway": "residential", "motor_vehicle": "no"}, Mode.SCOOTER) is None
    assert way_kmh({"highway": "residential", "motor_vehicle": "no"}, Mode.EBIKE) is not None
    assert way_kmh({"highway": "primary", "foot": "no"}, Mode.WALKING) is None


def test_a_signed_limit_below_the_class_speed_slows_motor_vehicles() -> None:
    assert way_kmh({"highway": "primary", "maxspeed": "20"}, Mode.CAR) == 20
    assert way_kmh({"highway": "primary", "maxspeed": "FI:urban"}, Mode.CAR) == road_kmh("primary", Mode.CAR)


def test_one_way_streets_bind_vehicles_but_not_walkers() -> None:
    oneway = {"highway": "residential", "oneway": "yes"}
    assert (way_direction(oneway, Mode.CAR).forward, way_direction(oneway, Mode.CAR).backward) == (
        True,
        False,
    )
    assert way_direction(oneway, Mode.WALKING).backward
    assert not way_direction(oneway, Mode.EBIKE).backward
    assert way_direction({**oneway, "oneway:bicycle": "no"}, Mode.EBIKE).backward
    against = way_direction({"highway": "residential", "oneway": "-1"}, Mode.SCOOTER)
    assert (against.forward, against.backward) == (False, True)
    assert not way_direction({"highway": "primary", "junction": "roundabout"}, Mode.CAR).backward


def test_a_car_goes_round_the_block_rather_than_up_a_one_way_street(block: City) -> None:
    with_the_flow = block.route(at(1), at(2), Mode.CAR)
    against = block.route(at(2), at(1), Mode.CAR)
    assert [round(p[1], 3) for p in with_the_flow.path] == [25.0, 25.002]
    assert len(against.path) == 4  # 2 -> 3 -> 4 -> 1
    assert against.metres > 2 * with_the_flow.metres


def test_walkers_take_the_one_way_street_both_ways(block: City) -> None:
    there, back = block.route(at(1), at(2), Mode.WALKING), block.route(at(2), at(1), Mode.WALKING)
    assert len(back.path) == 2
    assert back.seconds == pytest.approx(there.seconds)
    assert back.seconds == pytest.approx(back.metres / (5 / 3.6))


@pytest.mark.parametrize("table_max_nodes", [3000, 0], ids=["table", "searched"])
def test_the_matrix_agrees_with_routes_and_is_not_symmetric_for_cars(
    block: City, monkeypatch: pytest.MonkeyPatch, table_max_nodes: int
) -> None:
    monkeypatch.setattr(city_module, "TABLE_MAX_NODES", table_max_nodes)
    points = [at(1), at(2), at(3)]
    matrix = block.matrix(points, points, Mode.CAR)
    assert matrix.shape == (3, 3)
    assert np.allclose(np.diag(matrix), 0)
    assert matrix[1, 0] > matrix[0, 1]
    assert matrix[1, 0] == pytest.approx(block.route(at(2), at(1), Mode.CAR).seconds)
    # from the larger side, the targets, it is computed on the reversed graph: the same answer
    assert np.allclose(block.matrix([at(2)], points, Mode.CAR)[0], matrix[1])
    assert np.allclose(block.matrix(points, [at(1)], Mode.CAR)[:, 0], matrix[:, 0])


def test_a_point_snaps_to_the_mode_s_own_network(block: City) -> None:
    end_of_footway = at(9)
    walking, car = block.snap([end_of_footway], Mode.WALKING), block.snap([end_of_footway], Mode.CAR)
    assert walking.gap_m[0] == pytest.approx(0, abs=0.01)
    nearest = block.graphs[Mode.CAR].reachable[car.node[0]]
    assert (block.lat[nearest], block.lon[nearest]) == at(4)  # the nearest node a car reaches
    assert car.gap_m[0] == pytest.approx(111, abs=1)
    # the gap is walked: a car's time to the footway's end is its time to node 4 plus 111 m on foot
    seconds = block.matrix([at(1)], [end_of_footway], Mode.CAR)[0, 0]
    assert seconds == pytest.approx(block.matrix([at(1)], [at(4)], Mode.CAR)[0, 0] + 111.2 / (5 / 3.6), abs=1)


def test_a_point_to_itself_is_no_time_even_off_the_road(block: City) -> None:
    in_the_yard = (60.0005, 25.001)  # between the roads: tens of metres to the nearest node
    matrix = block.matrix([in_the_yard, at(1)], [in_the_yard, at(1)], Mode.WALKING)
    assert matrix[0, 0] == 0 and matrix[1, 1] == 0
    assert matrix[0, 1] > 0 and matrix[1, 0] > 0


def test_points_off_the_map_are_named_and_refused(block: City) -> None:
    with pytest.raises(ValidationFailed) as refused:
        block.matrix([at(1), (60.1, 25.0)], [at(2)], Mode.CAR)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.field_errors] == ["sources[1]"]


def test_too_many_or_no_points_are_refused(block: City, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(city_module, "MAX_POINTS", 2)
    with pytest.raises(ValidationFailed, match="between 1 and 2"):
        block.matrix([at(1)] * 3, [at(2)], Mode.CAR)
    with pytest.raises(ValidationFailed, match="targets"):
        block.matrix([at(1)], [], Mode.CAR)


def test_addresses_geocode_and_reverse_geocode(block: City) -> None:
    door = block.geocode("kiertotie 7, 00100 Testi")
    assert (door.kind, door.street, door.housenumber, door.postcode) == ("address", "Kiertotie", "7", "00100")
    assert (door.lat, door.lon) == pytest.approx(at(5))
    assert block.reverse((door.lat, door.lon)) == door
    building = block.geocode("Yksisuuntainen 2b")  # "2 B" as written on the map
    assert building.lat == pytest.approx(59.99977, abs=1e-5)
    assert block.geocode("2 B Yksisuuntainen") == building
    street = block.geocode("YKSISUUNTAINEN")
    assert (street.kind, street.street) == ("street", "Yksisuuntainen")


def test_an_unknown_address_is_a_404_and_a_point_off_the_map_a_422(block: City) -> None:
    with pytest.raises(NotFound):
        block.geocode("Kiertotie 8")
    with pytest.raises(NotFound):
        block.geocode("Mannerheimintie")
    with pytest.raises(ValidationFailed):
        block.reverse((61.0, 25.0))


def test_later_loads_read_the_cache_without_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = CitySource("block", "Test block", "tests", draw(tmp_path / "block.osm"))
    first = City.load(source, tmp_path / "cache")
    [cache] = (tmp_path / "cache").iterdir()

    def no_parsing(pbf: Path) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(city_module, "parse", no_parsing)
    again = City.load(source, tmp_path / "cache")
    assert again.edge_count(Mode.CAR) == first.edge_count(Mode.CAR)
    monkeypatch.setattr(city_module, "CACHE_FORMAT", city_module.CACHE_FORMAT + 1)
    with pytest.raises(AssertionError, match="parsed again"):  # new rules: the old cache is not read
        City.load(source, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == [cache]
