"""The live feed: each new notification, once, to its recipient only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from strawberry.types import Info

from graph.notifications.loaders import VisibleNotificationById
from graph.notifications.types import Notification
from graph.permissions import IsAuthenticated
from graph.subscriptions import fresh_context, shared_payload, user_events


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(permission_classes=[IsAuthenticated], description="Each new notification for the viewer.")
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        async def build(notification_id: uuid.UUID) -> Notification | None:
            async with fresh_context(info) as context:
                row = await context.loader(VisibleNotificationById).load(notification_id)
            return Notification.from_model(row) if row is not None else None

        viewer = info.context.actor.user_id
        async for message in user_events(info, kinds={"notification"}):
            notification_id = uuid.UUID(message["id"])
            payload = await shared_payload(("notification", notification_id, viewer), partial(build, notification_id))
            if payload is not None:
                yield payload
