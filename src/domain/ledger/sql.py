"""SQL the ledger shares between modules, written once per backend where the dialects differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_unless_duplicate(dialect: str, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING against any unique key (both backends support the bare form).

    Concurrent inserts of one key wait for each other on PostgreSQL; the loser inserts nothing
    and reads the winner's row afterwards, instead of failing the whole transaction.
    """
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
