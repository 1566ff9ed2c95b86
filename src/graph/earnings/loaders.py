"""Loaders for earnings. Each one's query applies ownership, so whatever a resolver or
`node(id:)` gets from it is the viewer's own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning, Goal, Platform
from domain.earnings.goals import current_amounts
from domain.earnings.policies import owned_by
from graph.loaders import Loader


class _OwnedById(Loader[uuid.UUID, Any]):
    model: Any

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[Any]:
        rows = await session.scalars(
            select(self.model)
            .where(self.model.id.in_(keys), owned_by(self.context.actor, self.model.user_id))
            # A mutation earlier in the request may have changed the row under the identity map.
            .execution_options(populate_existing=True)
        )
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class PlatformById(_OwnedById):
    model = Platform


class EarningById(_OwnedById):
    model = Earning


class GoalById(_OwnedById):
    model = Goal


class GoalCurrentAmount(Loader[uuid.UUID, int]):
    """Each goal's current amount in minor units: one statement for every goal on the page.

    Keys come from goals already loaded through the owner's lists, so no further check here.
    """

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[int]:
        sums = await current_amounts(session, keys)
        return [sums.get(key, 0) for key in keys]
