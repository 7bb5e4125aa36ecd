"""The settings, for the commands: imported when a command runs, not when `entrepot --help` starts
(pydantic-settings is most of a second's start on a slow disk)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from entrepot.platform.settings import Settings


def get_settings() -> Settings:
    """`entrepot.platform.settings.get_settings()`: the same cached settings (its `cache_clear` applies)."""
    from entrepot.platform.settings import get_settings as cached

    return cached()
