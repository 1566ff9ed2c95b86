"""What earnings tells its users: a goal reached, a goal missed.

The in-app notification is written in the caller's transaction by the notifications domain,
which publishes it and sends email/SMS per the user's preferences after the commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Goal
from domain.money import from_minor
from domain.notifications.service import notify

GOAL_COMPLETED = "earnings.goal_completed"
GOAL_MISSED = "earnings.goal_missed"


def _target(goal: Goal) -> str:
    return f"{from_minor(goal.target_minor, goal.currency)} {goal.currency}"


async def goal_completed(session: AsyncSession, goal: Goal) -> None:
    await notify(
        session,
        goal.user_id,
        type=GOAL_COMPLETED,
        title="Goal reached",
        message=f"You reached your goal “{goal.title}”: {_target(goal)}.",
        style="MODAL",
        data={"goalId": str(goal.id)},
    )


async def goal_missed(session: AsyncSession, goal: Goal) -> None:
    await notify(
        session,
        goal.user_id,
        type=GOAL_MISSED,
        title="Goal deadline passed",
        message=f"The deadline of “{goal.title}” ({goal.deadline.isoformat()}) passed before it reached "
                f"{_target(goal)}.",
        data={"goalId": str(goal.id)},
    )
