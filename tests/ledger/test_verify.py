"""verify(): a clean book passes; each kind of damage is found and named."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount, LedgerHold
from domain import ledger
from tally.clock import clock
from tests.conftest import Backend
from tests.ledger.factories import open_account

accounts = LedgerAccount.__table__
entries = JournalEntry.__table__
postings = JournalPosting.__table__


async def raw_entry(session: AsyncSession, lines: list[tuple[uuid.UUID, int]], key: str | None = None) -> uuid.UUID:
    """Write an entry around the service, keeping cached balances in step with what it writes."""
    entry_id = uuid.uuid4()
    await session.execute(insert(entries), {
        "id": entry_id, "idempotency_key": key or f"raw:{entry_id}", "fingerprint": "raw", "reason": "raw",
        "created_at": clock.now(),
    })
    for account_id, amount in lines:
        account = await ledger.get_account(session, account_id)
        balance, version = account.balance + amount, account.version + 1
        await session.execute(insert(postings), {
            "account_id": account_id, "version": version, "entry_id": entry_id, "amount": amount,
            "asset": account.asset, "balance_after": balance, "created_at": clock.now(),
        })
        await session.execute(update(accounts).where(accounts.c.id == account_id).values(balance=balance,
                                                                                           version=version))
    return entry_id


@asynccontextmanager
async def without_check_constraints(session: AsyncSession, backend: Backend) -> AsyncIterator[None]:
    """Damage the database can normally refuse (the test's transaction puts it all back)."""
    if backend.is_postgres:
        await session.execute(text("ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_non_negative"))
        yield
    else:
        await session.execute(text("PRAGMA ignore_check_constraints = ON"))
        try:
            yield
        finally:
            await session.execute(text("PRAGMA ignore_check_constraints = OFF"))


async def busy_book(session: AsyncSession) -> tuple[LedgerAccount, LedgerAccount]:
    a = await open_account(session, balance=100)
    b = await open_account(session, balance=10)
    entry = await ledger.transfer(session, a.id, b.id, 30, "USD", f"v:{uuid.uuid4()}", "test.transfer")
    await ledger.reverse(session, entry.id, f"v:{uuid.uuid4()}")
    hold = await ledger.place_hold(session, a.id, 20, f"v:{uuid.uuid4()}", "test.hold")
    await ledger.capture_hold(session, hold.id, b.id, f"v:{uuid.uuid4()}", amount=5)
    await ledger.place_hold(session, b.id, 7, f"v:{uuid.uuid4()}", "test.hold")
    return a, b


async def test_a_clean_book_passes_every_check(session: AsyncSession) -> None:
    # Given transfers, a reversal and holds in every state
    await busy_book(session)
    # When the book is verified
    report = await ledger.verify(session)
    # Then every check ran and none failed
    assert report.ok, report.summary()
    assert set(report.counts) == {
        "unbalanced_entry", "short_entry", "cached_balance", "negative_balance", "negative_history",
        "posting_chain", "asset_mismatch", "duplicate_idempotency_key", "holds_balance", "hold_state", "hold_entry",
    }
    assert report.totals["entries"] >= 7 and report.totals["holds"] >= 2
    assert "OK: no violations" in report.summary()


async def test_a_corrupted_cached_balance_is_found(session: AsyncSession) -> None:
    # Given a book where someone bumped a cached balance by hand
    a, _ = await busy_book(session)
    await session.execute(update(accounts).where(accounts.c.id == a.id).values(balance=accounts.c.balance + 5))
    # When it is verified
    report = await ledger.verify(session)
    # Then exactly that account is named
    assert report.failed_checks() == ["cached_balance"]
    assert [v.subject for v in report.violations] == [f"account {a.id}"]
    assert "FAILED: 1 violation(s)" in report.summary()


async def test_an_entry_that_does_not_sum_to_zero_is_found(session: AsyncSession) -> None:
    # Given an entry written around the service that creates 8 out of nothing
    a, b = await busy_book(session)
    entry_id = await raw_entry(session, [(a.id, 5), (b.id, 3)])
    # When the book is verified
    report = await ledger.verify(session)
    # Then the entry is named, and nothing else is wrong
    assert report.failed_checks() == ["unbalanced_entry"]
    assert report.violations[0].subject == f"entry {entry_id}" and "sum to 8" in report.violations[0].detail


async def test_an_entry_with_one_posting_is_found(session: AsyncSession) -> None:
    a, _ = await busy_book(session)
    await raw_entry(session, [(a.id, 5)])
    assert {"short_entry", "unbalanced_entry"} == set((await ledger.verify(session)).failed_checks())


async def test_a_negative_plain_account_is_found(session: AsyncSession, backend: Backend) -> None:
    # Given a plain account pushed below zero with its checks switched off
    a, _ = await busy_book(session)
    sink = await open_account(session, allow_negative=True, kind="clearing")
    async with without_check_constraints(session, backend):
        await raw_entry(session, [(a.id, -1000), (sink.id, 1000)])
    # When the book is verified
    report = await ledger.verify(session)
    # Then both the balance and the posting that got it there are named
    assert set(report.failed_checks()) == {"negative_balance", "negative_history"}


async def test_the_database_itself_refuses_a_negative_plain_balance(session: AsyncSession) -> None:
    a, _ = await busy_book(session)
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(update(accounts).where(accounts.c.id == a.id).values(balance=-1))


async def test_a_broken_running_balance_is_found(session: AsyncSession) -> None:
    a, _ = await busy_book(session)
    await session.execute(
        update(postings).where(postings.c.account_id == a.id, postings.c.version == 1).values(balance_after=99)
    )
    assert (await ledger.verify(session)).failed_checks() == ["posting_chain"]


async def test_a_posting_in_another_asset_is_found(session: AsyncSession) -> None:
    a, _ = await busy_book(session)
    await session.execute(
        update(postings).where(postings.c.account_id == a.id, postings.c.version == 1).values(asset="EUR")
    )
    assert "asset_mismatch" in (await ledger.verify(session)).failed_checks()


@pytest.mark.postgres
async def test_an_idempotency_key_used_twice_is_found(session: AsyncSession) -> None:
    # Given the unique index gone (only PostgreSQL drops it inside a transaction) and a key reused
    a, b = await busy_book(session)
    await session.execute(text("ALTER TABLE ledger_entries DROP CONSTRAINT uq_ledger_entries_idempotency_key"))
    await raw_entry(session, [(a.id, -1), (b.id, 1)], key="twice")
    await raw_entry(session, [(a.id, -1), (b.id, 1)], key="twice")
    # When the book is verified
    report = await ledger.verify(session)
    # Then the key is named
    assert report.failed_checks() == ["duplicate_idempotency_key"]
    assert report.violations[0].subject == "key twice"


async def test_a_hold_out_of_step_with_its_entries_is_found(session: AsyncSession) -> None:
    # Given a pending hold marked voided by hand, with no entry giving the money back
    wallet = await open_account(session, balance=100)
    hold = await ledger.place_hold(session, wallet.id, 60, "v-hold", "test.hold")
    await session.execute(update(LedgerHold.__table__).where(LedgerHold.id == hold.id).values(status="voided"))
    # When the book is verified
    report = await ledger.verify(session)
    # Then the hold and its holds account are both named
    assert set(report.failed_checks()) == {"hold_state", "holds_balance"}


async def test_a_report_can_be_recorded_for_admin_tools(session: AsyncSession) -> None:
    # Given a verified, damaged book
    a, _ = await busy_book(session)
    await session.execute(update(accounts).where(accounts.c.id == a.id).values(balance=accounts.c.balance + 1))
    report = await ledger.verify(session)
    # When the result is recorded
    await ledger.record_run(session, report)
    # Then the latest run says what failed
    run = await ledger.latest_run(session)
    assert run is not None and run.ok is False and run.violation_count == 1
    assert run.report["counts"]["cached_balance"] == 1
