"""Earnings summaries: totals, hours, rates and breakdowns, aggregated in SQL.

One statement answers a whole summary, whatever the number of earnings: a CTE groups the
range by (day, platform) in one pass over the index, and four GROUP BYs over that small
result (by day, by month, by platform, in total) come back together through UNION ALL. Plain
SQL that PostgreSQL and SQLite both run; no row is loaded into Python.

Only earnings in the asked currency count, and nothing is converted: a summary in EUR ignores
the USD earnings entirely. The average hourly rate divides what was earned on earnings that
tracked time (hours > 0) by those hours, so untracked earnings do not inflate it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, String, Uuid, case, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from db.models.earnings import Earning
from domain.actor import Actor
from domain.earnings.earnings import rate_minor
from domain.earnings.errors import Code, refuse
from domain.earnings.policies import owner_of
from domain.earnings.profiles import settings_of
from domain.money import MoneyError, normalize_currency


class year_month(FunctionElement[str]):
    """'YYYY-MM' of a date column, on either backend."""

    type = String()
    inherit_cache = True


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(year_month)
def _year_month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates as 'YYYY-MM-DD' text.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@dataclass(frozen=True)
class Bucket:
    amount_minor: int = 0
    hours_centi: int = 0
    # What was earned on earnings that tracked time: the numerator of the hourly rate.
    rated_amount_minor: int = 0
    count: int = 0

    @property
    def rate_minor(self) -> int | None:
        return rate_minor(self.rated_amount_minor, self.hours_centi)


@dataclass(frozen=True)
class Summary:
    currency: str
    start: date
    end: date
    total: Bucket
    by_platform: list[tuple[uuid.UUID, Bucket]]
    by_month: list[tuple[str, Bucket]]
    by_day: list[tuple[date, Bucket]]

    def share(self, bucket: Bucket) -> float:
        """A part's fraction of the total amount, in [0, 1]."""
        return bucket.amount_minor / self.total.amount_minor if self.total.amount_minor else 0.0


def summary_query(user_id: uuid.UUID, currency: str, start: date, end: date) -> Any:
    daily = (
        select(
            Earning.date.label("day"),
            Earning.platform_id.label("platform_id"),
            func.sum(Earning.amount_minor).label("amount"),
            func.sum(func.coalesce(Earning.hours_centi, 0)).label("hours"),
            func.sum(case((Earning.hours_centi > 0, Earning.amount_minor), else_=0)).label("rated"),
            func.count().label("n"),
        )
        .where(Earning.user_id == user_id, Earning.currency == currency, Earning.date.between(start, end))
        .group_by(Earning.date, Earning.platform_id)
        .cte("daily")
    )
    sums = [func.sum(daily.c.amount), func.sum(daily.c.hours), func.sum(daily.c.rated), func.sum(daily.c.n)]
    no_day, no_month, no_platform = cast(null(), Date), cast(null(), String), cast(null(), Uuid)
    month = year_month(daily.c.day)

    def part(level: str, day: Any, month_key: Any, platform: Any, *group_by: Any) -> Any:
        columns = [literal(level).label("level"), day.label("day"), month_key.label("month"),
                   platform.label("platform_id"), *sums]
        return select(*columns).select_from(daily).group_by(*group_by)

    return union_all(
        part("day", daily.c.day, no_month, no_platform, daily.c.day),
        part("month", no_day, month, no_platform, month),
        part("platform", no_day, no_month, daily.c.platform_id, daily.c.platform_id),
        # No GROUP BY: one row, even over no earnings (its sums are NULL then).
        select(literal("total"), no_day, no_month, no_platform, *sums).select_from(daily),
    )


async def summarize(
    session: AsyncSession, actor: Actor, start: date, end: date, currency: str | None = None
) -> Summary:
    """The actor's earnings from `start` to `end` (inclusive) in `currency` (default: theirs)."""
    user_id = owner_of(actor)
    if start > end:
        raise refuse(Code.INVALID, "`from` must not be after `to`.", "from")
    if currency is None:
        currency = (await settings_of(session, user_id)).default_currency
    else:
        try:
            currency = normalize_currency(currency)
        except MoneyError as exc:
            raise refuse(Code.INVALID, str(exc), "currency") from None

    total = Bucket()
    by_platform: list[tuple[uuid.UUID, Bucket]] = []
    by_month: list[tuple[str, Bucket]] = []
    by_day: list[tuple[date, Bucket]] = []
    for level, day, month, platform_id, amount, hours, rated, count in await session.execute(
        summary_query(user_id, currency, start, end)
    ):
        bucket = Bucket(int(amount or 0), int(hours or 0), int(rated or 0), int(count or 0))
        if level == "total":
            total = bucket
        elif level == "day":
            by_day.append((day, bucket))
        elif level == "month":
            by_month.append((month, bucket))
        else:
            by_platform.append((platform_id, bucket))
    by_platform.sort(key=lambda item: (-item[1].amount_minor, str(item[0])))
    by_month.sort(key=lambda item: item[0])
    by_day.sort(key=lambda item: item[0])
    return Summary(currency, start, end, total, by_platform, by_month, by_day)


async def earning_currencies(session: AsyncSession, actor: Actor) -> list[str]:
    """The currencies the actor has earnings in, alphabetically."""
    user_id = owner_of(actor)
    rows = await session.scalars(
        select(Earning.currency).where(Earning.user_id == user_id).group_by(Earning.currency).order_by(Earning.currency)
    )
    return list(rows)
