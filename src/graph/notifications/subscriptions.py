"""The live feed: each new notification, once, to its recipient only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graph.notifications.loaders import VisibleNotificationById
from graph.notifications.types import Notification
from graph.permissions import IsAuthenticated
from graph.subscriptions import fresh_context, user_events


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(permission_classes=[IsAuthenticated], description="Each new notification for the viewer.")
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        async for message in user_events(info, kinds={"notification"}):
            async with fresh_context(info) as context:
                row = await context.loader(VisibleNotificationById).load(uuid.UUID(message["id"]))
            if row is not None:
                yield Notification.from_model(row)
