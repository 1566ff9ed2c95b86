"""Which notifications also go out by email or SMS, and the quiet hours that hold them back.

In-app notifications always show. Email and SMS follow the user's per-type choice, falling back
to the defaults below. During quiet hours (a daily window in the user's timezone) email and SMS
wait until the window ends; security notices never wait.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.notifications import MessageChannel, NotificationPreference, QuietHours
from domain.errors import DomainError
from domain.notifications.errors import Code

# Types whose email goes out unless the user turns it off; everything else is in-app only.
EMAIL_BY_DEFAULT = frozenset({"security.new_sign_in", "family.gift_unlocked", "earnings.goal_completed"})
# Security notices are never held back by quiet hours.
URGENT_PREFIX = "security."
TYPE_MAX_LENGTH = 64


async def wanted_channels(session: AsyncSession, user_id: uuid.UUID, type_: str) -> set[MessageChannel]:
    rows = (
        await session.execute(
            select(NotificationPreference.channel, NotificationPreference.enabled).where(
                NotificationPreference.user_id == user_id, NotificationPreference.type == type_
            )
        )
    ).all()
    chosen = {channel: enabled for channel, enabled in rows}
    wanted = set()
    if chosen.get(MessageChannel.EMAIL, type_ in EMAIL_BY_DEFAULT):
        wanted.add(MessageChannel.EMAIL)
    if chosen.get(MessageChannel.SMS, False):
        wanted.add(MessageChannel.SMS)
    return wanted


async def set_preference(
    session: AsyncSession, user_id: uuid.UUID, type_: str, channel: MessageChannel, enabled: bool
) -> None:
    type_ = type_.strip()
    if not type_ or len(type_) > TYPE_MAX_LENGTH:
        raise DomainError.of(Code.INVALID, "Name a notification type.", "type")
    dialect = session.bind.dialect.name if session.bind else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(NotificationPreference).values(user_id=user_id, type=type_, channel=channel, enabled=enabled)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "type", "channel"], set_={"enabled": statement.excluded.enabled}
        )
    )


async def set_quiet_hours(
    session: AsyncSession, user_id: uuid.UUID, starts: time | None, ends: time | None, timezone: str
) -> QuietHours | None:
    """Set the daily window, or clear it with starts and ends both null."""
    current = await session.get(QuietHours, user_id)
    if starts is None and ends is None:
        if current is not None:
            await session.delete(current)
            await session.flush()
        return None
    if starts is None or ends is None or starts == ends:
        raise DomainError.of(Code.INVALID, "Give a start and a different end, or neither.", "starts")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError.of(Code.INVALID, "Unknown timezone.", "timezone") from None
    if current is None:
        current = QuietHours(user_id=user_id, starts=starts, ends=ends, timezone=timezone)
        session.add(current)
    else:
        current.starts, current.ends, current.timezone = starts, ends, timezone
    await session.flush()
    return current


def quiet_until(window: QuietHours | None, now: datetime, type_: str) -> datetime | None:
    """When the quiet window holding a message back ends; None if it may go now."""
    if window is None or type_.startswith(URGENT_PREFIX):
        return None
    local = now.astimezone(ZoneInfo(window.timezone))
    today_start = local.replace(hour=window.starts.hour, minute=window.starts.minute, second=0, microsecond=0)
    today_end = local.replace(hour=window.ends.hour, minute=window.ends.minute, second=0, microsecond=0)
    if window.starts < window.ends:  # e.g. 13:00-14:00, within one day
        return today_end if today_start <= local < today_end else None
    # Overnight, e.g. 22:00-07:00
    if local >= today_start:
        return today_end + timedelta(days=1)
    if local < today_end:
        return today_end
    return None
