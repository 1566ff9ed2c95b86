"""Earnings as CSV, streamed: rows come from a server-side cursor in batches and leave as text,
so an export of any size holds one batch in memory, never the whole history.

Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return,
OWASP's list) get a leading apostrophe: Excel, LibreOffice and Google Sheets show it as text.
Only text people typed (platform names, notes) can start that way; numbers Tally formats never
do, since amounts, hours and rates are never negative.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from db.engine import Database
from db.models.earnings import Earning, Platform
from domain.actor import Actor
from domain.earnings.earnings import hours_from_centi, rate_minor
from domain.earnings.policies import owner_of
from domain.money import from_minor

HEADER = ("date", "platform", "amount", "currency", "hours", "hourly rate", "notes")
BATCH_SIZE = 1000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_cell(value: str) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    if value.startswith(_FORMULA_STARTS) or value.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_query(user_id: Any, start: date | None, end: date | None) -> Any:
    query = (
        select(Earning.date, Platform.name, Earning.amount_minor, Earning.currency, Earning.hours_centi,
               Earning.notes)
        .join(Platform, Platform.id == Earning.platform_id)
        .where(Earning.user_id == user_id)
        .order_by(Earning.date, Earning.created_at, Earning.id)
    )
    if start is not None:
        query = query.where(Earning.date >= start)
    if end is not None:
        query = query.where(Earning.date <= end)
    return query


def csv_row(row: Sequence[Any]) -> list[str]:
    day, platform, amount_minor, currency, hours_centi, notes = row
    rate = rate_minor(amount_minor, hours_centi)
    hours = hours_from_centi(hours_centi)
    return [
        day.isoformat(),
        escape_cell(platform),
        str(from_minor(amount_minor, currency)),
        currency,
        "" if hours is None else str(hours),
        "" if rate is None else str(from_minor(rate, currency)),
        escape_cell(notes or ""),
    ]


def _lines(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


async def csv_chunks(
    database: Database, actor: Actor, start: date | None, end: date | None, batch_size: int = BATCH_SIZE
) -> AsyncIterator[str]:
    """The header, then one chunk of CSV text per batch of rows, oldest earning first."""
    user_id = owner_of(actor)
    yield _lines([HEADER])
    async with database.sessions() as session:
        # yield_per: a server-side cursor on PostgreSQL, fetched batch by batch on SQLite.
        result = await session.stream(export_query(user_id, start, end).execution_options(yield_per=batch_size))
        async for rows in result.partitions():
            yield _lines(csv_row(row) for row in rows)
