"""The organisation page: the tree on a day and the history of moves, as the API's reads answer them
(GET /api/v1/org/tree), for every role; the 1 Oct 2021 reorganisation seen on either side of its day."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.web.conftest import console_as
from tests.world import World


class _Tree(HTMLParser):
    """code -> the code of the list item it sits in, from the tree's `<li data-code>` items."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str | None] = []
        self.parents: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            code = dict(attrs).get("data-code")
            if code:
                self.parents[code] = next((c for c in reversed(self.open) if c), None)
            self.open.append(code)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.open.pop()


def _parent_of(page: str, unit: str) -> str | None:
    tree = _Tree()
    tree.feed(page)
    return tree.parents[unit]


def test_the_tree_shows_the_reorganisation_of_1_october_2021(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "ops")
    before = console.get("/organisation?on=2021-09-30")
    after = console.get("/organisation?on=2021-10-01")
    assert before.status_code == after.status_code == 200
    assert _parent_of(before.text, "lazada") == "commerce"
    assert _parent_of(after.text, "lazada") == "international-commerce-division"
    assert _parent_of(after.text, "lazada-sg") == "lazada"  # markets hang under their business unit
    assert "international-commerce" not in _tree(before.text)  # the new segments did not exist yet
    assert "moved here this day" in after.text and "moved here this day" not in before.text


def _tree(page: str) -> str:
    return page[page.index('<div class="tree">') : page.index('aria-labelledby="moves"')]


def test_the_history_lists_every_move_and_links_to_its_day(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get("/organisation?on=2025-01-01").text
    history = page[page.index('aria-labelledby="moves"') :]
    assert history.count('href="/organisation?on=2021-10-01"') == 7  # the seven business units moved
    assert "taobao" in history and "china-commerce-division" in history


def test_the_default_day_is_today_in_china_on_the_injected_clock(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "ops")
    assert 'value="2025-11-11"' in console.get("/organisation").text  # 03:00 UTC: 11:00 in Shanghai
    world.clock.now = world.clock.now.replace(hour=17)  # 01:00 the next day in Shanghai
    console = console_as(world, "ops")  # the first session has ended, idle for 14 hours
    assert 'value="2025-11-12"' in console.get("/organisation").text


def test_every_role_reads_the_organisation_as_every_api_key_does(
    world: World, people: dict[str, str]
) -> None:
    api = world.client()
    for name, key in (("seller-a", "seller_a"), ("buyer-a", "buyer_a"), ("ops", "operator")):
        assert api.get("/api/v1/org/tree", headers=world.auth(key)).status_code == 200
        page = console_as(world, name).get("/organisation")
        assert page.status_code == 200 and 'href="/organisation"' in page.text, name
    assert console_as(world, "courier").get("/organisation").status_code == 200


def test_a_day_out_of_range_is_a_422_page(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "ops")
    for bad in ("9999-12-31", "2021-02-30", "yesterday"):
        page = console.get(f"/organisation?on={bad}")
        assert page.status_code == 422, bad
        assert page.headers["content-type"].startswith("text/html")
    assert world.client().get("/organisation", follow_redirects=False).status_code == 303  # signed out
