"""Goals: earn a target in one currency between the goal's first day and its deadline.

A goal's current amount is the sum of the owner's earnings in the goal's currency dated from
`starts_on` (the day it was set, in the owner's timezone) to `deadline`, both inclusive; it
is computed in SQL for any number of goals at once, never stored. When an earning makes it
reach the target the goal becomes COMPLETED and the owner is notified; an ACTIVE goal whose
deadline has ended in the owner's timezone becomes MISSED (the deadline job) and the owner is
notified. Both are final: deleting an earning later does not reopen a completed goal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning, Goal
from domain.actor import Actor
from domain.earnings import notices
from domain.earnings.policies import owner_of
from domain.earnings.profiles import settings_of, settings_of_many, today_in
from domain.errors import Validator
from domain.money import MoneyError, normalize_currency, to_minor
from tally.clock import clock

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_TARGET_MINOR = 10**15
MISSED_BATCH = 500


class GoalStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    MISSED = "MISSED"


@dataclass(frozen=True)
class NewGoal:
    title: str
    target_amount: Decimal
    deadline: date
    currency: str | None = None
    description: str | None = None


def progress(current_minor: int, target_minor: int) -> float:
    """How far along, in [0, 1]: earning more than the target still reads 1."""
    return max(0.0, min(1.0, current_minor / target_minor))


def current_amounts_query(goal_ids: Sequence[uuid.UUID]) -> Select[tuple[uuid.UUID, int]]:
    window = and_(
        Earning.user_id == Goal.user_id,
        Earning.currency == Goal.currency,
        Earning.date >= Goal.starts_on,
        Earning.date <= Goal.deadline,
    )
    return (
        select(Goal.id, func.coalesce(func.sum(Earning.amount_minor), 0))
        .select_from(Goal)
        .outerjoin(Earning, window)
        .where(Goal.id.in_(goal_ids))
        .group_by(Goal.id)
    )


async def current_amounts(session: AsyncSession, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each goal's current amount in minor units, in one statement whatever the number of goals."""
    if not goal_ids:
        return {}
    rows = await session.execute(current_amounts_query(goal_ids))
    return {goal_id: int(total) for goal_id, total in rows}


async def create_goal(session: AsyncSession, actor: Actor, data: NewGoal) -> Goal:
    user_id = owner_of(actor)
    settings = await settings_of(session, user_id)
    today = settings.today()
    check = Validator()
    title = data.title.strip()
    check.check(0 < len(title) <= MAX_TITLE, "title", f"Give a title of 1 to {MAX_TITLE} characters.")
    description = data.description.strip() if data.description is not None else None
    if description is not None:
        check.check(len(description) <= MAX_DESCRIPTION, "description",
                    f"Keep the description to {MAX_DESCRIPTION:,} characters.")
    currency = settings.default_currency
    if data.currency is not None:
        try:
            currency = normalize_currency(data.currency)
        except MoneyError as exc:
            check.check(False, "currency", str(exc))
            currency = None
    target_minor = None
    if currency is not None:
        try:
            target_minor = to_minor(data.target_amount, currency)
            check.check(target_minor > 0, "targetAmount", "The target must be more than zero.")
            check.check(target_minor <= MAX_TARGET_MINOR, "targetAmount", "This target is too large.")
        except MoneyError as exc:
            check.check(False, "targetAmount", str(exc))
    check.check(data.deadline >= today, "deadline",
                f"The deadline cannot be in the past (today is {today.isoformat()} in {settings.timezone}).")
    check.raise_if_any()
    assert currency is not None and target_minor is not None

    goal = Goal(
        user_id=user_id,
        title=title,
        description=description or None,
        target_minor=target_minor,
        currency=currency,
        starts_on=today,
        deadline=data.deadline,
        status=GoalStatus.ACTIVE.value,
    )
    session.add(goal)
    await session.flush()
    # Earnings already recorded for today (or tomorrow) count: the goal may be reached at once.
    await complete_reached_goals(session, user_id, currency)
    return goal


async def complete_reached_goals(session: AsyncSession, user_id: uuid.UUID, currency: str) -> list[Goal]:
    """Mark the owner's ACTIVE goals in `currency` that reached their target COMPLETED, and notify.

    The goals are locked before their sums are read, so of two earnings committed at once the
    second one's check sees the first (READ COMMITTED reads anew after the lock wait).
    """
    active = list(await session.scalars(
        select(Goal)
        .where(Goal.user_id == user_id, Goal.currency == currency, Goal.status == GoalStatus.ACTIVE.value)
        .order_by(Goal.id)  # one lock order for every writer, so two never deadlock
        .with_for_update()
        .execution_options(populate_existing=True)
    ))
    if not active:
        return []
    sums = await current_amounts(session, [goal.id for goal in active])
    reached = [goal for goal in active if sums.get(goal.id, 0) >= goal.target_minor]
    now = clock.now()
    for goal in reached:
        goal.status = GoalStatus.COMPLETED.value
        goal.completed_at = now
    if reached:
        await session.flush()
    for goal in reached:
        await notices.goal_completed(session, goal)
    return reached


@dataclass
class MissedBatch:
    marked: list[Goal]
    resume_after: tuple[date, uuid.UUID] | None  # None: nothing left to look at


async def mark_missed_goals(
    session: AsyncSession, now: datetime | None = None, after: tuple[date, uuid.UUID] | None = None,
    limit: int = MISSED_BATCH,
) -> MissedBatch:
    """Mark ACTIVE goals whose deadline has ended in their owner's timezone MISSED, and notify.

    Idempotent: a goal is marked once, and a second run finds nothing. Works in batches in
    deadline order; pass `resume_after` back as `after` for the next batch.
    """
    now = now or clock.now()
    # No timezone is more than a day ahead of UTC, so no later deadline can have passed.
    latest_possible = now.date()
    query = (
        select(Goal)
        .where(Goal.status == GoalStatus.ACTIVE.value, Goal.deadline <= latest_possible)
        .order_by(Goal.deadline, Goal.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if after is not None:
        deadline, goal_id = after
        query = query.where(or_(Goal.deadline > deadline, and_(Goal.deadline == deadline, Goal.id > goal_id)))
    candidates = list(await session.scalars(query))
    if not candidates:
        return MissedBatch(marked=[], resume_after=None)
    settings = await settings_of_many(session, list({goal.user_id for goal in candidates}))
    marked = []
    for goal in candidates:
        if goal.deadline < today_in(settings[goal.user_id].timezone):
            goal.status = GoalStatus.MISSED.value
            goal.missed_at = now
            marked.append(goal)
    if marked:
        await session.flush()
    for goal in marked:
        await notices.goal_missed(session, goal)
    last = candidates[-1]
    return MissedBatch(marked=marked, resume_after=(last.deadline, last.id) if len(candidates) == limit else None)


def goals_query(user_id: uuid.UUID, status: GoalStatus | None = None) -> Select[tuple[Goal]]:
    query = select(Goal).where(Goal.user_id == user_id)
    if status is not None:
        query = query.where(Goal.status == status.value)
    return query


# Newest first.
GOALS_ORDER = (Goal.created_at, Goal.id)
