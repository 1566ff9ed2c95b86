"""Loaders for accounts. Each applies the visibility policy in its query, so whatever a
resolver or `node(id:)` gets from it is already something the viewer may see."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts.policies import visible_users
from graph.loaders import Loader


class VisibleUserById(Loader[uuid.UUID, User | None]):
    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[User | None]:
        rows = await session.scalars(
            select(User)
            .where(User.id.in_(keys), visible_users(self.context.actor))
            # A mutation earlier in the request may have changed the row under the identity map.
            .execution_options(populate_existing=True)
        )
        by_id = {user.id: user for user in rows}
        return [by_id.get(key) for key in keys]
