"""Applying a validated entry: lock the accounts, check them, write the entry, balances, postings.

Both backends follow the same steps and the same rule: the entry row goes in under its unique
idempotency key with ON CONFLICT DO NOTHING, and the balances and postings are written only if
it did, and only if every account exists, holds the posting's asset and (unless it may go
below zero) stays at or above zero. Otherwise nothing at all is written, and the caller reads
the returned lines to say why.

PostgreSQL does it all in one statement: a CTE locks the accounts in id order
(FOR NO KEY UPDATE, so concurrent entries queue instead of deadlocking; a locked row is read
at its newest version), the checks are SQL, and data-modifying CTEs write the entry, the new
balances and the postings. Every statement is a round trip plus the driver's and SQLAlchemy's
work, which is most of a transfer's cost (bench/ledger.py measures it). SQLite, one writer
in-process, takes the plain route: select, check in Python, insert, two executemany.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount
from domain.ledger.sql import insert_unless_duplicate
from domain.ledger.types import PostingSpec

accounts = LedgerAccount.__table__
entries = JournalEntry.__table__
postings = JournalPosting.__table__


@dataclass(frozen=True)
class Line:
    """A posting checked against its (locked) account."""

    account_id: uuid.UUID
    amount: int
    asset: str
    account_asset: str
    allow_negative: bool
    balance_after: int
    version: int

    @property
    def overdraws(self) -> bool:
        return self.balance_after < 0 and not self.allow_negative


@dataclass(frozen=True)
class Applied:
    written: bool
    # One per posting whose account exists, in account id order.
    lines: list[Line]


_POSTGRES_APPLY = text("""
    WITH line AS (
        SELECT * FROM unnest(CAST(:account_ids AS uuid[]), CAST(:amounts AS bigint[]), CAST(:assets AS varchar[]))
            AS line (account_id, amount, asset)
    ), locked AS (
        SELECT id, asset, balance, version, allow_negative FROM ledger_accounts
        WHERE id = ANY(CAST(:account_ids AS uuid[]))
        ORDER BY id
        FOR NO KEY UPDATE
    ), checked AS (
        SELECT line.account_id, line.amount, line.asset, locked.asset AS account_asset, locked.allow_negative,
               locked.balance + line.amount AS balance_after, locked.version + 1 AS version
        FROM line JOIN locked ON locked.id = line.account_id
    ), entry AS (
        INSERT INTO ledger_entries (id, idempotency_key, fingerprint, reason, memo, reference_type, reference_id,
                                    reverses_entry_id, created_at)
        SELECT CAST(:id AS uuid), :idempotency_key, :fingerprint, :reason, :memo, :reference_type, :reference_id,
               CAST(:reverses_entry_id AS uuid), CAST(:created_at AS timestamptz)
        WHERE (
            SELECT count(*) = cardinality(CAST(:account_ids AS uuid[]))
               AND bool_and(asset = account_asset AND (allow_negative OR balance_after >= 0))
            FROM checked
        )
        ON CONFLICT DO NOTHING
        RETURNING id
    ), balance AS (
        UPDATE ledger_accounts SET balance = checked.balance_after, version = checked.version
        FROM checked
        WHERE ledger_accounts.id = checked.account_id AND EXISTS (SELECT FROM entry)
    ), posting AS (
        INSERT INTO ledger_postings (account_id, version, entry_id, amount, asset, balance_after, created_at)
        SELECT checked.account_id, checked.version, entry.id, checked.amount, checked.asset,
               checked.balance_after, CAST(:created_at AS timestamptz)
        FROM checked CROSS JOIN entry
    )
    SELECT checked.*, EXISTS (SELECT FROM entry) AS written FROM checked ORDER BY account_id
""")

_SQLITE_SELECT = select(
    accounts.c.id, accounts.c.asset, accounts.c.balance, accounts.c.version, accounts.c.allow_negative
).where(accounts.c.id.in_(bindparam("ids", expanding=True)))
_SQLITE_SET_BALANCES = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(balance=bindparam("b_balance"), version=bindparam("b_version"))
)
_SQLITE_INSERT_POSTINGS = insert(postings)


@functools.cache
def _insert_entry(dialect: str) -> Insert:
    # Built once: building a statement costs more than looking up its compiled SQL.
    return insert_unless_duplicate(dialect, entries).returning(entries.c.id)


async def apply_entry(connection: AsyncConnection, entry: dict[str, Any], postings_in: list[PostingSpec]) -> Applied:
    """Lock, check and (if every check passes and the keys are free) write. `postings_in` sorted by account."""
    if connection.dialect.name == "postgresql":
        rows = (
            await connection.execute(
                _POSTGRES_APPLY,
                {
                    **entry,
                    "account_ids": [p.account_id for p in postings_in],
                    "amounts": [p.amount for p in postings_in],
                    "assets": [p.asset for p in postings_in],
                },
            )
        ).all()
        lines = [Line(r.account_id, r.amount, r.asset, r.account_asset, r.allow_negative, r.balance_after,
                      r.version) for r in rows]
        return Applied(written=bool(rows) and rows[0].written, lines=lines)

    found = {
        row.id: row
        for row in await connection.execute(_SQLITE_SELECT, {"ids": [p.account_id for p in postings_in]})
    }
    lines = [
        Line(p.account_id, p.amount, p.asset, found[p.account_id].asset, found[p.account_id].allow_negative,
             found[p.account_id].balance + p.amount, found[p.account_id].version + 1)
        for p in postings_in
        if p.account_id in found
    ]
    if len(lines) < len(postings_in) or any(line.asset != line.account_asset or line.overdraws for line in lines):
        return Applied(written=False, lines=lines)
    if (await connection.execute(_insert_entry("sqlite"), entry)).scalar_one_or_none() is None:
        return Applied(written=False, lines=lines)
    await connection.execute(
        _SQLITE_SET_BALANCES,
        [{"b_id": line.account_id, "b_balance": line.balance_after, "b_version": line.version} for line in lines],
    )
    await connection.execute(
        _SQLITE_INSERT_POSTINGS,
        [
            {"account_id": line.account_id, "version": line.version, "entry_id": entry["id"], "amount": line.amount,
             "asset": line.asset, "balance_after": line.balance_after, "created_at": entry["created_at"]}
            for line in lines
        ],
    )
    return Applied(written=True, lines=lines)
