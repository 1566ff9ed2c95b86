"""The viewer's notification fields on `me`: the bell's count, the list, the preferences."""

from __future__ import annotations

import uuid
from datetime import time

import strawberry
from strawberry.types import Info

from db.models.notifications import QuietHours
from domain.notifications import service
from graph.notifications.loaders import UnreadCount
from graph.notifications.types import Notification
from graph.pagination import Connection, page_request


@strawberry.type(description="A daily window, in a timezone, when email and SMS wait.")
class QuietHoursWindow:
    starts: time
    ends: time
    timezone: str


@strawberry.type
class NotificationsViewerFields:
    @strawberry.field(description="How many of the viewer's notifications are unread.")
    async def unread_notification_count(self, info: Info) -> int:
        return await info.context.loader(UnreadCount).load(uuid.UUID(str(self.id)))  # type: ignore[attr-defined]

    @strawberry.field(description="The viewer's notifications, newest first.")
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        unread_only: bool = False,
    ) -> Connection[Notification]:
        request = page_request(first, after, last, before)
        async with info.context.uow.serialized() as session:
            page = await service.page_for(session, info.context.actor, request, unread_only)
        return Connection.from_page(page, Notification.from_model)

    @strawberry.field(description="The daily window when email and SMS wait; null when there is none.")
    async def quiet_hours(self, info: Info) -> QuietHoursWindow | None:
        async with info.context.uow.serialized() as session:
            window = await session.get(QuietHours, info.context.actor.user_id)
        return QuietHoursWindow(starts=window.starts, ends=window.ends, timezone=window.timezone) if window else None
