"""The parent dashboard's numbers for a child over a range of days (UTC), from SQL aggregates.

Tasks completed, attempts, accuracy, points earned and the average time to solve, plus the
same per day for a chart (every day of the range, zeros included). Everything is aggregated by
the database from the attempts table, for any number of children in two statements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyTaskAttempt
from domain.errors import Validator
from tally.clock import clock

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class DayStats:
    day: date
    attempts: int = 0
    correct_attempts: int = 0
    tasks_completed: int = 0
    points_earned: int = 0


@dataclass
class ChildStats:
    start: date
    end: date
    attempts: int = 0
    correct_attempts: int = 0
    tasks_completed: int = 0
    points_earned: int = 0
    average_seconds_to_solve: float | None = None
    days: list[DayStats] = field(default_factory=list)

    @property
    def accuracy(self) -> float | None:
        """Correct attempts over all attempts; null with no attempts."""
        return self.correct_attempts / self.attempts if self.attempts else None


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The range asked for, the last 30 days by default; at most a year, first day not after the last."""
    end = end or clock.now().astimezone(UTC).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    check = Validator()
    check.check(start <= end, "from", "The first day must not be after the last.")
    check.check((end - start).days < MAX_DAYS, "from", f"Ask for at most {MAX_DAYS} days.")
    check.raise_if_any()
    return start, end


def _utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    # SQLite keeps UTC times as ISO text; date() takes the day part.
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def stats_for(
    session: AsyncSession, child_ids: list[uuid.UUID], start: date, end: date
) -> dict[uuid.UUID, ChildStats]:
    attempt = FamilyTaskAttempt
    dialect = session.get_bind().dialect.name
    solved = attempt.points_earned > 0
    window = (
        attempt.child_id.in_(child_ids),
        attempt.created_at >= datetime.combine(start, time(), UTC),
        attempt.created_at < datetime.combine(end + timedelta(days=1), time(), UTC),
    )
    measures = (
        func.count().label("attempts"),
        func.coalesce(func.sum(case((attempt.correct, 1), else_=0)), 0).label("correct_attempts"),
        func.coalesce(func.sum(case((solved, 1), else_=0)), 0).label("tasks_completed"),
        func.coalesce(func.sum(attempt.points_earned), 0).label("points_earned"),
    )
    day = _utc_day(attempt.created_at, dialect).label("day")
    per_day = (
        select(attempt.child_id, day, *measures).where(*window).group_by(attempt.child_id, day)
    )
    totals = select(
        attempt.child_id, *measures, func.avg(case((solved, attempt.time_taken_seconds))).label("average")
    ).where(*window).group_by(attempt.child_id)

    found = {child_id: ChildStats(start=start, end=end) for child_id in child_ids}
    for row in await session.execute(totals):
        stats = found[row.child_id]
        stats.attempts, stats.correct_attempts = int(row.attempts), int(row.correct_attempts)
        stats.tasks_completed, stats.points_earned = int(row.tasks_completed), int(row.points_earned)
        stats.average_seconds_to_solve = float(row.average) if row.average is not None else None
    days: dict[tuple[uuid.UUID, date], DayStats] = {}
    for row in await session.execute(per_day):
        days[(row.child_id, _as_date(row.day))] = DayStats(
            day=_as_date(row.day), attempts=int(row.attempts), correct_attempts=int(row.correct_attempts),
            tasks_completed=int(row.tasks_completed), points_earned=int(row.points_earned),
        )
    span = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    for child_id, stats in found.items():
        stats.days = [days.get((child_id, each)) or DayStats(day=each) for each in span]
    return found
