"""Notification loaders, each applying the viewer's visibility."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.notifications import Notification
from domain.notifications import service
from graph.loaders import Loader


class VisibleNotificationById(Loader[uuid.UUID, Notification | None]):
    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[Notification | None]:
        found = {row.id: row for row in await service.visible(session, self.context.actor, keys)}
        return [found.get(key) for key in keys]


class UnreadCount(Loader[uuid.UUID, int]):
    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[int]:
        return [await service.unread_count(session, key) for key in keys]
