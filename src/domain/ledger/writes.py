"""Writing a checked entry: the entry row, the new cached balances, the postings.

Called by post() once the touched accounts are locked and the new balances are known good.
The entry row goes in under its unique idempotency key with ON CONFLICT DO NOTHING; when that
inserts nothing (the key, or the reversed entry, is taken) nothing else is written either.

PostgreSQL does all three in one statement (data-modifying CTEs: the balances and postings are
written only if the entry row was), so a transfer costs two round trips: lock, write. Every
statement is a round trip plus the driver's and SQLAlchemy's work, which dominates a ledger
post; the benchmark in bench/ledger.py shows the difference. SQLite (one writer, in-process)
takes the plain route: insert the entry, then one executemany each for balances and postings.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount
from domain.ledger.sql import insert_unless_duplicate

accounts = LedgerAccount.__table__
entries = JournalEntry.__table__
postings = JournalPosting.__table__

_POSTGRES_WRITE = text("""
    WITH entry AS (
        INSERT INTO ledger_entries (id, idempotency_key, fingerprint, reason, memo, reference_type, reference_id,
                                    reverses_entry_id, created_at)
        VALUES (:id, :idempotency_key, :fingerprint, :reason, :memo, :reference_type, :reference_id,
                :reverses_entry_id, :created_at)
        ON CONFLICT DO NOTHING
        RETURNING id
    ), line AS (
        SELECT * FROM unnest(
            CAST(:account_ids AS uuid[]), CAST(:versions AS bigint[]), CAST(:amounts AS bigint[]),
            CAST(:assets AS varchar[]), CAST(:balances_after AS bigint[])
        ) AS line (account_id, version, amount, asset, balance_after)
    ), balance AS (
        UPDATE ledger_accounts SET balance = line.balance_after, version = line.version
        FROM line
        WHERE ledger_accounts.id = line.account_id AND EXISTS (SELECT FROM entry)
    ), posting AS (
        INSERT INTO ledger_postings (account_id, version, entry_id, amount, asset, balance_after, created_at)
        SELECT line.account_id, line.version, entry.id, line.amount, line.asset, line.balance_after, :created_at
        FROM line CROSS JOIN entry
    )
    SELECT id FROM entry
""")

_SET_BALANCES = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(balance=bindparam("b_balance"), version=bindparam("b_version"))
)
_INSERT_POSTINGS = insert(postings)


@functools.cache
def _insert_entry(dialect: str) -> Insert:
    # Built once per backend: building a statement costs more than looking up its compiled SQL.
    return insert_unless_duplicate(dialect, entries).returning(entries.c.id)


async def write_entry(connection: AsyncConnection, entry: dict[str, Any], lines: list[dict[str, Any]]) -> bool:
    """Write the entry and its postings (each line: account_id, version, amount, asset, balance_after).

    False, with nothing written, when a unique key refused the entry row.
    """
    if connection.dialect.name == "postgresql":
        columns = {
            "account_ids": "account_id", "versions": "version", "amounts": "amount", "assets": "asset",
            "balances_after": "balance_after",
        }
        arrays = {name: [line[key] for line in lines] for name, key in columns.items()}
        return (await connection.execute(_POSTGRES_WRITE, {**entry, **arrays})).scalar_one_or_none() is not None

    if (await connection.execute(_insert_entry(connection.dialect.name), entry)).scalar_one_or_none() is None:
        return False
    await connection.execute(
        _SET_BALANCES,
        [{"b_id": line["account_id"], "b_balance": line["balance_after"], "b_version": line["version"]}
         for line in lines],
    )
    await connection.execute(
        _INSERT_POSTINGS,
        [{**line, "entry_id": entry["id"], "created_at": entry["created_at"]} for line in lines],
    )
    return True
