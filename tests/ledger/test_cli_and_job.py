"""`tally ledger verify` and the nightly job, against a real (committed) database."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import LedgerAccount
from db.unit_of_work import transaction
from domain import ledger
from jobs.ledger import verify_ledger
from jobs.registry import CRON, FUNCTIONS
from tally.cli import main
from tally.runtime import Runtime
from tests.conftest import Backend
from tests.ledger.factories import open_account

pytestmark = pytest.mark.committed


async def a_book(runtime: Runtime, *, corrupt: bool) -> uuid.UUID:
    """A committed book with a transfer and a hold; optionally one cached balance bumped by hand."""
    async with transaction(runtime.database) as session:
        a = await open_account(session, balance=100)
        b = await open_account(session)
        await ledger.transfer(session, a.id, b.id, 30, "USD", f"cli:{uuid.uuid4()}", "test.transfer")
        await ledger.place_hold(session, a.id, 20, f"cli:{uuid.uuid4()}", "test.hold")
        if corrupt:
            await session.execute(update(LedgerAccount).where(LedgerAccount.id == b.id).values(balance=31))
        return b.id


@pytest.fixture
def cli_env(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"TALLY_DATABASE_URL": backend.settings.database_url, "TALLY_ENV": "test"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TALLY_REDIS_URL", raising=False)
    return env


async def test_verify_exits_zero_and_prints_a_summary_on_a_clean_book(
    committed_runtime: Runtime, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a sound book, committed
    await a_book(committed_runtime, corrupt=False)
    # When an operator runs the command (main() runs its own event loop, so off this one)
    code = await asyncio.to_thread(main, ["ledger", "verify"])
    # Then it says so and exits 0
    out = capsys.readouterr().out
    assert code == 0
    assert "cached_balance" in out and "OK: no violations" in out


async def test_verify_exits_one_on_a_violation_as_a_real_command(
    committed_runtime: Runtime, cli_env: dict[str, str]
) -> None:
    # Given a book with a cached balance bumped by hand
    account_id = await a_book(committed_runtime, corrupt=True)
    # When `tally ledger verify` runs as its own process
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tally.cli", "ledger", "verify",
        env={**os.environ, **cli_env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    # Then it names the account and exits 1
    out = stdout.decode()
    assert process.returncode == 1, stderr.decode()
    assert f"cached_balance: account {account_id}" in out and "FAILED: 1 violation(s)" in out


async def test_verify_can_print_json_and_record_the_run(
    committed_runtime: Runtime, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await a_book(committed_runtime, corrupt=True)
    code = await asyncio.to_thread(main, ["ledger", "verify", "--json", "--record"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False and report["counts"]["cached_balance"] == 1
    async with transaction(committed_runtime.database) as session:
        run = await ledger.latest_run(session)
    assert run is not None and run.ok is False and run.violation_count == 1


async def test_verify_exits_two_when_there_is_no_ledger_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a database nobody migrated
    monkeypatch.setenv("TALLY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("TALLY_ENV", "test")
    # When verify runs, then it fails loudly with its own exit code, not as a clean book
    assert await asyncio.to_thread(main, ["ledger", "verify"]) == 2
    assert "cannot read the ledger" in capsys.readouterr().err


def test_the_nightly_verify_is_registered() -> None:
    assert verify_ledger in FUNCTIONS
    assert [(entry.hour, entry.minute) for entry in CRON if entry.function is verify_ledger] == [(3, 17)]


async def test_the_nightly_job_records_a_clean_run(committed_runtime: Runtime) -> None:
    await a_book(committed_runtime, corrupt=False)
    result = await verify_ledger({"runtime": committed_runtime})
    assert result["ok"] is True and result["violations"] == 0
    async with transaction(committed_runtime.database) as session:
        run = await ledger.latest_run(session)
    assert run is not None and run.ok and str(run.id) == result["run_id"]


async def test_the_nightly_job_raises_the_alarm_on_a_violation(
    committed_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a damaged book
    await a_book(committed_runtime, corrupt=True)
    # When the nightly job runs
    with caplog.at_level(logging.ERROR, logger="jobs.ledger"):
        result = await verify_ledger({"runtime": committed_runtime})
    # Then it logs an ERROR naming the check, and stores the failed run for admin tools
    assert result["ok"] is False and result["violations"] == 1
    assert any(r.levelno == logging.ERROR and "cached_balance" in r.getMessage() for r in caplog.records)
    session: AsyncSession
    async with transaction(committed_runtime.database) as session:
        run = await ledger.latest_run(session)
    assert run is not None and run.ok is False and run.report["counts"]["cached_balance"] == 1
