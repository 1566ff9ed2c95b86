"""Async engines and session factories for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.core import REGISTRY, CounterMetricFamily
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class _StatementCount:
    """SQL statements this process sent, exposed on /metrics as tally_sql_statements_total.

    A plain attribute bumped by an engine listener and read at scrape time: cheaper per
    statement than a prometheus Counter's lock. Listeners run on the event loop's thread, so
    the increment is not raced (a sync engine in another thread could lose a count; none serves).
    """

    def __init__(self) -> None:
        self.count = 0

    def collect(self) -> Any:
        yield CounterMetricFamily("tally_sql_statements", "SQL statements executed (cursor executions)",
                                  value=self.count)


SQL_STATEMENTS = _StatementCount()
REGISTRY.register(SQL_STATEMENTS)


def _count_statement(*_args: Any) -> None:
    SQL_STATEMENTS.count += 1


def create_engine(url: str, **options: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        _fix_sqlite_transactions(engine)
    else:
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 10)
        # No pre-ping: it costs a round trip per checkout (~25% of ledger write throughput), and a
        # connection dropped by a server restart invalidates the whole pool on its first error anyway.
        engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def _fix_sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy issue BEGIN itself, so SAVEPOINTs work (the sqlite3 module breaks them)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine and the session factory bound to it (or to one connection, in tests)."""

    def __init__(self, engine: AsyncEngine, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        options: dict[str, Any] = {"expire_on_commit": False, "autoflush": False}
        if bind is not None:
            # Tests: every session joins the test's outer transaction through a savepoint.
            options["join_transaction_mode"] = "create_savepoint"
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(bind or engine, **options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Database:
        return cls(create_engine(url, **options))

    async def ping(self) -> None:
        # Outside any transaction, so a writer holding SQLite's lock does not make us look down.
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
