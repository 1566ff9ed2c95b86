"""Plans: FREE allows a few active platforms, PRO and BUSINESS any number.

Staff change a user's plan (billing arrives with the shop). Moving down to FREE with more
active platforms than it allows archives nothing: the user keeps them and cannot add another
until they are under the limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.actor import Actor, Role
from domain.earnings.errors import Code, UserNotFound, refuse
from domain.earnings.policies import CHANGES_PLANS
from domain.earnings.profiles import Settings, lock_profile


class Plan(StrEnum):
    FREE = "FREE"
    PRO = "PRO"
    BUSINESS = "BUSINESS"


# Active (not archived) platforms a plan allows; None is no limit.
ACTIVE_PLATFORM_LIMIT: dict[Plan, int | None] = {Plan.FREE: 3, Plan.PRO: None, Plan.BUSINESS: None}


def platform_limit(plan: str) -> int | None:
    return ACTIVE_PLATFORM_LIMIT[Plan(plan)]


@dataclass(frozen=True)
class PlanChange:
    user_id: uuid.UUID | None
    plan: Plan


async def set_plan(session: AsyncSession, actor: Actor, change: PlanChange) -> tuple[uuid.UUID, Settings]:
    if not actor.has_role_at_least(CHANGES_PLANS) or change.user_id is None:
        raise UserNotFound()
    user = await session.get(User, change.user_id)
    if user is None:
        raise UserNotFound()
    if user.role == Role.CHILD.value:
        raise refuse(Code.INVALID, "Children do not use earnings.", "userId")
    profile = await lock_profile(session, user.id)
    profile.plan = change.plan.value
    await session.flush()
    return user.id, Settings(plan=profile.plan, default_currency=profile.default_currency, timezone=profile.timezone)
