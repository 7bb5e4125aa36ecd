"""Group buys in the storefront: a buyer starts a team from the campaign's page, another joins it from
the team's page, and when the team fills both are charged (campaigns.group_buys' rules, as the API's
routes); refusals are shown in place and change nothing."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from tests.web.conftest import console_as, csrf_of
from tests.world import T0, World

SHOP = "/shop/lazada/sg"


def _campaign(api: TestClient, world: World, team_size: int = 2) -> str:
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 1290,
        "team_size": team_size,
        "team_window_seconds": 3600,
        "stock": 4,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
    }
    response = api.post("/api/v1/group-buys", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    ref: str = response.json()["id"]
    return ref


def _your_payment(api: TestClient, world: World, team: str, who: str) -> str | None:
    found: str | None = api.get(f"/api/v1/group-teams/{team}", headers=world.auth(who)).json()["your_payment"]
    return found


def test_two_buyers_fill_a_team_and_both_are_charged(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    ref = _campaign(api, world)
    first = console_as(world, "buyer-a")
    page = first.get(f"{SHOP}/group-buys/{ref}")
    assert page.status_code == 200 and "$12.90" in page.text and "Start a team" in page.text
    opened = first.post(
        f"{SHOP}/group-buys/{ref}/teams",
        data={"csrf": csrf_of(page), "payment_method": "card_visa"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    found = re.search(r"/teams/(team_[0-9a-z]+)", opened.headers["location"])
    assert found
    team = found.group(1)
    assert _your_payment(api, world, team, "buyer_a") == "authorized"  # held, not charged yet
    second = console_as(world, "buyer-b")
    shared = second.get(f"{SHOP}/teams/{team}")
    assert "1 of 2 buyers" in shared.text and "Join the team" in shared.text
    joined = second.post(
        f"{SHOP}/teams/{team}/members",
        data={"csrf": csrf_of(shared), "payment_method": "wallet"},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    done = second.get(joined.headers["location"]).text
    assert 'data-team-status="completed"' in done and 'data-payment="captured"' in done
    assert (
        _your_payment(api, world, team, "buyer_a") == _your_payment(api, world, team, "buyer_b") == "captured"
    )
    assert 'data-payment="captured"' in first.get(f"{SHOP}/teams/{team}").text
    full = second.post(
        f"{SHOP}/teams/{team}/members", data={"csrf": csrf_of(shared), "payment_method": "wallet"}
    )
    assert full.status_code == 409 and "the team is completed" in full.text  # shown in place


def test_refusals_are_shown_in_place_and_change_nothing(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    ref = _campaign(api, world, team_size=3)
    buyer = console_as(world, "buyer-a")
    page = buyer.get(f"{SHOP}/group-buys/{ref}")
    bad = buyer.post(f"{SHOP}/group-buys/{ref}/teams", data={"csrf": csrf_of(page), "payment_method": "iou"})
    assert bad.status_code == 422 and 'id="pay-error"' in bad.text
    assert api.get(f"/api/v1/group-buys/{ref}", headers=world.auth("buyer_a")).json()["held"] == 0
    no_csrf = buyer.post(f"{SHOP}/group-buys/{ref}/teams", data={"payment_method": "card_visa"})
    assert no_csrf.status_code == 403
    assert buyer.get(f"/shop/taobao/cn/group-buys/{ref}").status_code == 404  # another market's shop
    seller = console_as(world, "seller-a")
    refused = seller.post(
        f"{SHOP}/group-buys/{ref}/teams",
        data={"csrf": csrf_of(seller.get(f"{SHOP}/group-buys/{ref}")), "payment_method": "card_visa"},
    )
    assert refused.status_code == 403  # a buyer's key is needed, as POST /group-buys/{id}/teams
