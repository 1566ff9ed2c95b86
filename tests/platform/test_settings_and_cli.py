"""Configuration and the `tally` command: a bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tally.settings import ConfigurationError, load_settings

ROOT = Path(__file__).resolve().parents[2]
TALLY = [sys.executable, "-m", "tally.cli"]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    return subprocess.run(
        [*TALLY, *args], env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TALLY_PORT", "eighty", "TALLY_PORT"),
        ("TALLY_ENV", "staging", "TALLY_ENV"),
        ("TALLY_DATABASE_URL", "mysql://db/tally", "TALLY_DATABASE_URL"),
        ("TALLY_REDIS_URL", "http://cache", "TALLY_REDIS_URL"),
        ("TALLY_EMAIL_URL", "smtp://x", "TALLY_EMAIL_URL"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(secret_key="k" * 40)
    assert str(refused.value).startswith(named + ":")
    assert "\n" not in str(refused.value)


def test_production_refuses_to_start_without_a_strong_secret() -> None:
    with pytest.raises(ConfigurationError, match="TALLY_SECRET_KEY"):
        load_settings(env="production", secret_key="short")
    with pytest.raises(ConfigurationError, match="TALLY_SECRET_KEY"):
        load_settings(env="production", secret_key=None)


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALLY_SECRET_KEY", raising=False)
    first = load_settings(env="development").secret_key
    second = load_settings(env="development").secret_key
    assert first == second and len(first or "") >= 32
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_database_urls_get_the_async_driver() -> None:
    settings = load_settings(database_url="postgres://u@h/db", secret_key="k" * 40)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


def test_cors_origins_are_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_CORS_ORIGINS", "https://app.example, https://admin.example")
    assert load_settings(secret_key="k" * 40).cors_origins == ["https://app.example", "https://admin.example"]


def test_cli_reports_a_bad_setting_and_exits_2(tmp_path: Path) -> None:
    result = _run(["export-schema"], {"TALLY_PORT": "0"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tally: configuration error: TALLY_PORT: Input should be greater than or equal to 1"
    ]


def test_worker_says_it_needs_redis(tmp_path: Path) -> None:
    result = _run(["worker"], {}, tmp_path)
    assert result.returncode == 2
    assert "TALLY_REDIS_URL" in result.stderr


def test_migrate_then_export_schema(tmp_path: Path) -> None:
    # Given a fresh embedded database file
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    # When it is migrated twice (the second run has nothing to do)
    for _ in range(2):
        migrated = _run(["migrate"], {"TALLY_DATABASE_URL": url}, tmp_path)
        assert migrated.returncode == 0, migrated.stderr
    # Then the schema prints as the committed file
    exported = _run(["export-schema"], {}, tmp_path)
    assert exported.returncode == 0
    assert exported.stdout == (ROOT / "schema.graphql").read_text()
