"""The collector: Entrepot's first import sets its thresholds, and the API settles it once started
(`api.app.after_start`), unless told not to."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from entrepot import GC_THRESHOLDS
from entrepot.api.app import after_start
from entrepot.platform.settings import Settings


def _started(settings: Settings) -> Any:
    """What after_start reads of the app's context: its settings (the console's head start finds no
    snapshot to read and does nothing)."""
    return SimpleNamespace(settings=settings.model_copy(update={"reporting_snapshot_dir": "no-such-folder"}))


PYTHON_DEFAULTS = (700, 10, 10)


@pytest.fixture
def collector() -> Iterator[None]:
    """Each test starts from Python's own settings (the session has frozen what it loaded and set the
    app's thresholds: tests/conftest.py), and the session's are back after it."""
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.set_threshold(*PYTHON_DEFAULTS)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    if frozen:
        gc.freeze()


def test_after_start_freezes_what_start_up_made_and_collects_young_objects_less_often(
    collector: None,
) -> None:
    asyncio.run(after_start(_started(Settings(gc_freeze_at_start=True))))
    assert gc.get_freeze_count() > 0  # everything the test process has loaded, moved out of reach
    assert gc.get_threshold() == GC_THRESHOLDS


def test_after_start_leaves_the_collector_alone_when_the_settings_say_so(collector: None) -> None:
    before = gc.get_threshold()
    asyncio.run(after_start(_started(Settings(gc_freeze_at_start=False))))
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_importing_entrepot_sets_the_thresholds_before_anything_else_loads() -> None:
    """A process's first import of Entrepot (the API's, the CLI's) collects young objects less often while
    the rest of it loads."""
    shown = subprocess.run(
        [sys.executable, "-c", "import gc, entrepot; print(gc.get_threshold())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.strip() == str(GC_THRESHOLDS)
