"""Counting SQL statements, for the tests that prove a query does not grow with its data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Every statement the engine sends while the block runs (savepoint bookkeeping excluded)."""
    log = StatementLog()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
