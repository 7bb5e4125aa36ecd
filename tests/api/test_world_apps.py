"""The suite's apps are kept (tests.world.AppsBySettings): a later test's world is given an app an earlier
one had, whatever its own reporting snapshot folder, and one world's two clients never share an app.
When each test built its own app, the suite took twice as long (docs/performance.md, the test suite)."""

from __future__ import annotations

from tests.world import AppsBySettings, World


def test_a_later_world_takes_a_kept_app_with_its_own_folder(world: World) -> None:
    apps = AppsBySettings()
    earlier, later = World(world.db, {}, {}), World(world.db, {}, {})

    first = apps.app_for(earlier, earlier.settings(reporting_snapshot_dir="/tmp/earlier-test"))
    second = apps.app_for(earlier, earlier.settings(reporting_snapshot_dir="/tmp/earlier-test"))
    kept = apps.app_for(later, later.settings(reporting_snapshot_dir="/tmp/later-test"))
    kept_too = apps.app_for(later, later.settings(reporting_snapshot_dir="/tmp/later-test"))

    assert first is not second  # one world's two clients: two runtimes
    assert kept is first and kept_too is second
    assert kept.state.ctx.settings.reporting_snapshot_dir == "/tmp/later-test"


def test_other_settings_get_another_app(world: World) -> None:
    apps = AppsBySettings()
    earlier, later = World(world.db, {}, {}), World(world.db, {}, {})

    first = apps.app_for(earlier, earlier.settings())
    other = apps.app_for(later, later.settings(page_size_max=7))

    assert other is not first
    assert other.state.ctx.settings.page_size_max == 7
