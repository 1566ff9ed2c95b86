"""Notification mutations: mark read, choose channels, set quiet hours."""

from __future__ import annotations

import uuid
from datetime import time
from enum import Enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db.models.notifications import MessageChannel
from domain.errors import DomainError
from domain.notifications import preferences, service
from domain.notifications.errors import Code
from graph.mutations import mutate
from graph.node import resolve_node_id
from graph.notifications.types import Notification, NotificationsError
from graph.permissions import IsAuthenticated


@strawberry.enum(description="Where a notification may go besides the app.")
class DeliveryChannel(Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"


@strawberry.input(description="Pass `ids`, or `all: true`.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None
    all: bool | None = None


@strawberry.type
class MarkNotificationsReadPayload:
    unread_count: int | None = None
    errors: list[NotificationsError] = strawberry.field(default_factory=list)


@strawberry.input
class SetNotificationPreferenceInput:
    type: str
    channel: DeliveryChannel
    enabled: bool


@strawberry.input(description="Both null clears the window.")
class SetQuietHoursInput:
    starts: time | None = None
    ends: time | None = None
    timezone: str = "UTC"


@strawberry.type
class NotificationSettingsPayload:
    ok: bool = False
    errors: list[NotificationsError] = strawberry.field(default_factory=list)


def _notification_ids(ids: list[strawberry.ID]) -> list[uuid.UUID]:
    parsed = []
    for global_id in ids:
        raw = resolve_node_id(str(global_id), Notification)
        try:
            parsed.append(uuid.UUID(raw or ""))
        except ValueError:
            raise DomainError.of(Code.NOT_FOUND, "No such notification.", "ids") from None
    return parsed


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Mark some (ids) or all notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        actor = info.context.actor

        async def call(session: AsyncSession) -> MarkNotificationsReadPayload:
            ids = None if input.ids is None else _notification_ids(input.ids)
            count = await service.mark_read(session, actor, ids, bool(input.all))
            return MarkNotificationsReadPayload(unread_count=count)

        return await mutate(info, call, MarkNotificationsReadPayload, NotificationsError)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Send a type of notification by email or SMS too, or not."
    )
    async def set_notification_preference(
        self, info: Info, input: SetNotificationPreferenceInput
    ) -> NotificationSettingsPayload:
        actor = info.context.actor

        async def call(session: AsyncSession) -> NotificationSettingsPayload:
            channel = MessageChannel(input.channel.value)
            await preferences.set_preference(session, actor.user_id, input.type, channel, input.enabled)
            return NotificationSettingsPayload(ok=True)

        return await mutate(info, call, NotificationSettingsPayload, NotificationsError)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Hold email and SMS back in a daily window.")
    async def set_quiet_hours(self, info: Info, input: SetQuietHoursInput) -> NotificationSettingsPayload:
        actor = info.context.actor

        async def call(session: AsyncSession) -> NotificationSettingsPayload:
            await preferences.set_quiet_hours(session, actor.user_id, input.starts, input.ends, input.timezone)
            return NotificationSettingsPayload(ok=True)

        return await mutate(info, call, NotificationSettingsPayload, NotificationsError)
