"""Production (ENTREPOT_ENV's default) refuses to start with a value published with the code: the
development webhook secret, with which anyone could sign a payment, or the default SQLite file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from entrepot.api.app import create_app
from entrepot.cli.main import app as cli
from entrepot.platform.db import Database
from entrepot.platform.settings import DEV_WEBHOOK_SECRET, PublishedDefaults, Settings, get_settings

REAL_SECRET = "whsec_" + "k" * 40
POSTGRES = "postgresql+psycopg://entrepot@db.internal:5432/entrepot"


def test_production_names_every_published_default() -> None:
    with pytest.raises(PublishedDefaults) as refused:
        Settings(env="production").refuse_published_defaults()
    assert "ENTREPOT_WEBHOOK_SECRET is the published development value" in str(refused.value)
    assert "ENTREPOT_DATABASE_URL is the default SQLite file" in str(refused.value)


def test_production_starts_with_its_own_secret_and_database() -> None:
    Settings(env="production", webhook_secret=REAL_SECRET, database_url=POSTGRES).refuse_published_defaults()


@pytest.mark.parametrize("env", ["development", "test"])
def test_a_trial_accepts_the_defaults(env: str) -> None:
    settings = Settings(env=env)
    settings.refuse_published_defaults()
    assert len(settings.published_defaults()) == 2


def test_a_retired_secret_published_with_the_code_is_refused_too() -> None:
    settings = Settings(
        env="production",
        webhook_secret=REAL_SECRET,
        webhook_previous_secret=DEV_WEBHOOK_SECRET,
        database_url=POSTGRES,
    )
    with pytest.raises(PublishedDefaults, match="ENTREPOT_WEBHOOK_PREVIOUS_SECRET"):
        settings.refuse_published_defaults()


def test_the_app_does_not_start_in_production_with_the_development_secret(database: Database) -> None:
    app = create_app(Settings(env="production", database_url=database.url, run_sweeper=False), database)
    with pytest.raises(PublishedDefaults, match="ENTREPOT_WEBHOOK_SECRET"), TestClient(app):
        pass  # entering the client runs the start-up, which stops


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENTREPOT_ENV", "production")
    monkeypatch.delenv("ENTREPOT_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("ENTREPOT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_refuses_in_one_line_and_exit_2(production_env: None) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "8999"])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ENTREPOT_ENV=production will not start with published defaults")
    assert "ENTREPOT_WEBHOOK_SECRET" in line and "ENTREPOT_DATABASE_URL" in line


def test_a_rotation_accepts_the_previous_secret_until_its_window_closes() -> None:
    until = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    settings = Settings(
        webhook_secret=REAL_SECRET,
        webhook_previous_secret="whsec_" + "p" * 40,
        webhook_previous_secret_until=until,
    )
    assert settings.webhook_secrets(until - dt.timedelta(seconds=1)) == (REAL_SECRET, "whsec_" + "p" * 40)
    assert settings.webhook_secrets(until) == (REAL_SECRET,)
    assert Settings(webhook_secret=REAL_SECRET).webhook_secrets(until) == (REAL_SECRET,)
