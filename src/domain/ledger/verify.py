"""Verify: recompute the book from its postings and list every broken invariant.

Each check is one set-based query, so the whole book is read a handful of times, never row by
row. `run_verify` reads in one snapshot (REPEATABLE READ, read-only on PostgreSQL; SQLite's
transaction already is one), so a live database under writes never shows a half-applied entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.engine import Database
from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount, LedgerHold, LedgerVerifyRun
from domain.ledger.report import VerifyReport, Violation
from domain.ledger.types import AccountKind
from tally.clock import clock

Executor = AsyncSession | AsyncConnection

# A broken book lists at most this many violations per check (the count says if there were more).
LISTED_PER_CHECK = 100

accounts = LedgerAccount.__table__
entries = JournalEntry.__table__
postings = JournalPosting.__table__
holds = LedgerHold.__table__


def _unbalanced_entries() -> Select[Any]:
    total = func.sum(postings.c.amount)
    return (
        select(postings.c.entry_id, postings.c.asset, total.label("total"))
        .group_by(postings.c.entry_id, postings.c.asset)
        .having(total != 0)
    )


def _short_entries() -> Select[Any]:
    count = func.count(postings.c.account_id)
    return (
        select(entries.c.id, count.label("postings"))
        .select_from(entries.outerjoin(postings, postings.c.entry_id == entries.c.id))
        .group_by(entries.c.id)
        .having(count < 2)
    )


def _cached_balances() -> Select[Any]:
    summed = func.coalesce(func.sum(postings.c.amount), 0)
    count = func.count(postings.c.account_id)
    return (
        select(accounts.c.id, accounts.c.balance, accounts.c.version, summed.label("summed"), count.label("count"))
        .select_from(accounts.outerjoin(postings, postings.c.account_id == accounts.c.id))
        .group_by(accounts.c.id, accounts.c.balance, accounts.c.version)
        .having(or_(accounts.c.balance != summed, accounts.c.version != count))
    )


def _negative_balances() -> Select[Any]:
    return select(accounts.c.id, accounts.c.balance).where(
        ~accounts.c.allow_negative, accounts.c.balance < 0
    )


def _broken_chains() -> Select[Any]:
    """Postings whose balance_after is not the running sum, or whose versions skip or repeat."""
    ordered = {"partition_by": postings.c.account_id, "order_by": postings.c.version}
    chain = select(
        postings.c.account_id,
        postings.c.version,
        postings.c.balance_after,
        postings.c.amount,
        func.sum(postings.c.amount).over(**ordered).label("running"),
        func.row_number().over(**ordered).label("position"),
    ).subquery()
    return select(chain.c.account_id, chain.c.version, chain.c.balance_after, chain.c.running).where(
        or_(chain.c.balance_after != chain.c.running, chain.c.version != chain.c.position)
    )


def _negative_history() -> Select[Any]:
    return (
        select(postings.c.account_id, postings.c.version, postings.c.balance_after)
        .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
        .where(~accounts.c.allow_negative, postings.c.balance_after < 0)
    )


def _asset_mismatches() -> Select[Any]:
    return (
        select(postings.c.account_id, postings.c.version, postings.c.asset, accounts.c.asset.label("account_asset"))
        .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
        .where(postings.c.asset != accounts.c.asset)
    )


def _duplicate_keys() -> Select[Any]:
    count = func.count()
    return select(entries.c.idempotency_key, count.label("count")).group_by(entries.c.idempotency_key).having(count > 1)


def _holding_balances() -> Select[Any]:
    pending = func.coalesce(func.sum(holds.c.amount), 0)
    return (
        select(accounts.c.id, accounts.c.balance, pending.label("pending"))
        .select_from(
            accounts.outerjoin(holds, and_(holds.c.holding_account_id == accounts.c.id, holds.c.status == "pending"))
        )
        .where(accounts.c.kind == AccountKind.HOLDS.value)
        .group_by(accounts.c.id, accounts.c.balance)
        .having(accounts.c.balance != pending)
    )


def _hold_states() -> Select[Any]:
    return select(holds.c.id, holds.c.status, holds.c.captured_amount).where(
        or_(
            and_(holds.c.status == "pending", or_(holds.c.settle_entry_id.is_not(None), holds.c.captured_amount != 0)),
            and_(holds.c.status != "pending", holds.c.settle_entry_id.is_(None)),
            and_(holds.c.status == "voided", holds.c.captured_amount != 0),
            and_(holds.c.status == "posted", holds.c.captured_amount == 0),
        )
    )


def _hold_entries() -> Select[Any]:
    """Holds whose entries do not move exactly the held amount in and out of the holds account."""
    placed = postings.alias("placed")
    settled = postings.alias("settled")
    return (
        select(holds.c.id, placed.c.amount.label("placed"), settled.c.amount.label("settled"))
        .select_from(
            holds.outerjoin(
                placed,
                and_(placed.c.entry_id == holds.c.place_entry_id, placed.c.account_id == holds.c.holding_account_id),
            ).outerjoin(
                settled,
                and_(settled.c.entry_id == holds.c.settle_entry_id, settled.c.account_id == holds.c.holding_account_id),
            )
        )
        .where(
            or_(
                placed.c.amount.is_(None),
                placed.c.amount != holds.c.amount,
                and_(
                    holds.c.settle_entry_id.is_not(None),
                    or_(settled.c.amount.is_(None), settled.c.amount != -holds.c.amount),
                ),
            )
        )
    )


Describe = Callable[[Any], tuple[str, str]]

CHECKS: list[tuple[str, Callable[[], Select[Any]], Describe]] = [
    ("unbalanced_entry", _unbalanced_entries,
     lambda r: (f"entry {r.entry_id}", f"{r.asset} postings sum to {r.total}, not 0")),
    ("short_entry", _short_entries, lambda r: (f"entry {r.id}", f"has {r.postings} posting(s), needs 2 or more")),
    ("cached_balance", _cached_balances,
     lambda r: (f"account {r.id}", f"cached balance {r.balance} (version {r.version}), "
                                   f"postings sum to {r.summed} ({r.count} postings)")),
    ("negative_balance", _negative_balances, lambda r: (f"account {r.id}", f"balance {r.balance} below zero")),
    ("negative_history", _negative_history,
     lambda r: (f"account {r.account_id}", f"version {r.version} left the balance at {r.balance_after}")),
    ("posting_chain", _broken_chains,
     lambda r: (f"account {r.account_id}", f"version {r.version} says {r.balance_after}, running sum is {r.running}")),
    ("asset_mismatch", _asset_mismatches,
     lambda r: (f"account {r.account_id}", f"version {r.version} posts {r.asset} to a {r.account_asset} account")),
    ("duplicate_idempotency_key", _duplicate_keys,
     lambda r: (f"key {r.idempotency_key}", f"used by {r.count} entries")),
    ("holds_balance", _holding_balances,
     lambda r: (f"account {r.id}", f"holds account balance {r.balance}, pending holds total {r.pending}")),
    ("hold_state", _hold_states,
     lambda r: (f"hold {r.id}", f"status {r.status} with captured {r.captured_amount} or a missing/extra settlement")),
    ("hold_entry", _hold_entries,
     lambda r: (f"hold {r.id}", f"entries move {r.placed} in and {r.settled} out of the holds account")),
]


async def verify(executor: Executor) -> VerifyReport:
    """Run every check through `executor` (inside whatever transaction it is in)."""
    started = clock.now()
    report = VerifyReport(started_at=started, finished_at=started)
    for table, name in ((accounts, "accounts"), (entries, "entries"), (postings, "postings"), (holds, "holds")):
        report.totals[name] = (await executor.execute(select(func.count()).select_from(table))).scalar_one()
    for check, query, describe in CHECKS:
        rows = (await executor.execute(query().limit(LISTED_PER_CHECK + 1))).all()
        report.counts[check] = len(rows)
        report.truncated[check] = len(rows) > LISTED_PER_CHECK
        for row in rows[:LISTED_PER_CHECK]:
            subject, detail = describe(row)
            report.violations.append(Violation(check=check, subject=subject, detail=detail))
    report.finished_at = clock.now()
    return report


async def run_verify(database: Database) -> VerifyReport:
    """Verify a live database in one read-only snapshot, on a connection of its own."""
    async with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        try:
            return await verify(connection)
        finally:
            await connection.rollback()



async def record_run(session: AsyncSession, report: VerifyReport) -> LedgerVerifyRun:
    """Keep a verify result where admin tools (and the notifications domain) can read it."""
    run = LedgerVerifyRun(
        started_at=report.started_at,
        finished_at=report.finished_at,
        ok=report.ok,
        violation_count=report.violation_count,
        report=report.as_json(),
    )
    session.add(run)
    await session.flush()
    return run


async def latest_run(session: AsyncSession) -> LedgerVerifyRun | None:
    return await session.scalar(select(LedgerVerifyRun).order_by(LedgerVerifyRun.started_at.desc()).limit(1))
