"""In-app notifications: written with the caller's work, announced and mailed after its commit.

Any domain calls `notify(session, recipient_id, ...)` inside its own transaction. The row
commits or rolls back with the caller's work; after the commit the recipient's live feed
(`user:<id>`) hears of it once, and email/SMS go to the outbox per the user's preferences.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from db.models.notifications import MessageChannel, Notification, QuietHours
from db.pagination import Page, PageRequest, paginate
from domain.actor import Actor
from domain.errors import DomainError
from domain.notifications import preferences
from domain.notifications.errors import Code
from domain.notifications.outbox import queue_message
from tally.clock import clock
from tally.effects import publish

STYLES = ("TOAST", "MODAL")
MAX_IDS_PER_CALL = 100


def user_channel(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


async def notify(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    *,
    type: str,
    title: str,
    message: str,
    style: str = "TOAST",
    data: dict[str, Any] | None = None,
) -> Notification:
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}")
    notification = Notification(
        recipient_id=recipient_id, type=type, title=title, message=message, style=style, data=data,
        created_at=clock.now(),
    )
    session.add(notification)
    await session.flush()
    publish(session, user_channel(recipient_id), {"kind": "notification", "id": str(notification.id)})
    await _send_elsewhere(session, notification)
    return notification


async def _send_elsewhere(session: AsyncSession, notification: Notification) -> None:
    channels = await preferences.wanted_channels(session, notification.recipient_id, notification.type)
    if not channels:
        return
    user = await session.get(User, notification.recipient_id)
    if user is None:
        return
    window = await session.get(QuietHours, user.id)
    not_before = preferences.quiet_until(window, clock.now(), notification.type)
    addresses = {MessageChannel.EMAIL: user.email, MessageChannel.SMS: user.phone}
    for channel in sorted(channels):
        address = addresses[channel]
        if not address:
            continue
        await queue_message(
            session, channel, address, notification.title, notification.message,
            dedupe_key=f"notification:{notification.id}:{channel.value}",
            kind=notification.type, data={"notificationId": str(notification.id), **(notification.data or {})},
            not_before=not_before,
        )


async def page_for(
    session: AsyncSession, actor: Actor, request: PageRequest, unread_only: bool = False
) -> Page[Notification]:
    statement = select(Notification).where(Notification.recipient_id == actor.user_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return await paginate(session, statement, [Notification.created_at, Notification.id], request)


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await session.scalar(
        select(func.count()).where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    ) or 0


async def visible(session: AsyncSession, actor: Actor, ids: list[uuid.UUID]) -> list[Notification]:
    """The actor's own notifications among `ids`; anybody else's read as missing."""
    if actor.user_id is None or not ids:
        return []
    return list(
        (await session.scalars(
            select(Notification).where(Notification.id.in_(ids), Notification.recipient_id == actor.user_id)
        )).all()
    )


async def mark_read(
    session: AsyncSession, actor: Actor, ids: list[uuid.UUID] | None, everything: bool
) -> int:
    """Mark some (by id) or all of the actor's notifications read; returns the unread count left."""
    assert actor.user_id is not None
    if everything == (ids is not None):
        raise DomainError.of(Code.INVALID, "Pass either ids or all: true.", "ids")
    mine = Notification.recipient_id == actor.user_id
    if ids is not None:
        if not ids or len(ids) > MAX_IDS_PER_CALL:
            raise DomainError.of(Code.INVALID, f"Pass between 1 and {MAX_IDS_PER_CALL} ids.", "ids")
        found = {n.id for n in await visible(session, actor, ids)}
        if len(found) != len(set(ids)):
            raise DomainError.of(Code.NOT_FOUND, "No such notification.", "ids")
        target = Notification.id.in_(found)
    else:
        target = mine
    await session.execute(
        update(Notification)
        .where(mine, target, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return await unread_count(session, actor.user_id)
