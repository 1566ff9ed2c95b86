"""The email/SMS outbox: messages written with the caller's transaction, delivered by a job.

Any domain queues a message with `queue_message(session, ...)`; the row commits or rolls back
with the caller's work, and the delivery job is enqueued only after the commit. The job claims
the row (a short lease, so two workers never send it at once), sends it, and records the
outcome. A row stays PENDING until it is SENT or known to be undeliverable (FAILED), so a lost
job, a crashed worker or a Redis outage delays a message but never loses it: the sweep
re-enqueues PENDING rows whose attempt is overdue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.notifications import MessageChannel, MessageStatus, OutboxMessage
from domain.notifications.providers import OutgoingMessage
from tally.clock import clock
from tally.effects import enqueue

DELIVER_JOB = "deliver_message"
# How long one attempt may hold a message; longer than the HTTP timeout with room to spare.
LEASE = timedelta(minutes=2)
# A PENDING row this far past its due time has no job coming for it.
SWEEP_GRACE = timedelta(minutes=1)
# After this many attempts a message that still fails transiently is given up on (FAILED):
# with the default backoff that is about an hour of a provider being down.
MAX_ATTEMPTS = 20
_ERROR_LIMIT = 1000
# Messages carrying a secret (codes, sign-in links): their text is wiped once delivered.
SECRET_KINDS = ("otp", "verify_email", "reset_password")


def delivery_job_id(message_id: uuid.UUID, attempts: int) -> str:
    # One job per (message, attempt count): a second enqueue for the same state is a no-op,
    # and once an attempt has been made the sweep may enqueue the next one.
    return f"outbox:{message_id}:{attempts}"


async def queue_message(
    session: AsyncSession,
    channel: MessageChannel | str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str | None = None,
    *,
    kind: str = "message",
    data: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Write a message in the caller's transaction; its delivery starts after the commit.

    With a `dedupe_key` already used, the existing message is returned and nothing new is sent.
    `not_before` holds it back (quiet hours); `kind` and `data` name what it is about.
    """
    channel = MessageChannel(channel)
    recipient = recipient.strip()
    if not recipient:
        raise ValueError("a message needs a recipient")
    if dedupe_key is not None:
        existing = await _by_dedupe_key(session, dedupe_key)
        if existing is not None:
            return existing
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        kind=kind,
        data=data,
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=max(clock.now(), not_before or clock.now()),
    )
    try:
        # A savepoint: a concurrent writer of the same key fails only this insert, not the caller.
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        if dedupe_key is None:
            raise
        existing = await _by_dedupe_key(session, dedupe_key)
        if existing is None:
            raise
        return existing
    delay = message.next_attempt_at - clock.now()
    enqueue(
        session, DELIVER_JOB, str(message.id), job_id=delivery_job_id(message.id, 0),
        defer_by=delay if delay > timedelta(0) else None,
    )
    return message


async def _by_dedupe_key(session: AsyncSession, dedupe_key: str) -> OutboxMessage | None:
    return await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


@dataclass(frozen=True)
class Claimed:
    message: OutgoingMessage
    attempts: int


async def claim(session: AsyncSession, message_id: uuid.UUID, now: datetime) -> Claimed | None:
    """Take the message for one attempt; None if it is done, unknown, or another attempt holds it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == MessageStatus.PENDING,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .values(attempts=OutboxMessage.attempts + 1, locked_until=now + LEASE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = (
        await session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.attempts,
                OutboxMessage.kind,
                OutboxMessage.data,
                OutboxMessage.created_at,
            ).where(OutboxMessage.id == message_id)
        )
    ).one()
    message = OutgoingMessage(
        message_id, row.channel, row.recipient, row.subject, row.body,
        kind=row.kind, data=row.data, created_at=row.created_at,
    )
    return Claimed(message, row.attempts)


async def record_sent(session: AsyncSession, message_id: uuid.UUID, provider_id: str | None, now: datetime) -> None:
    await _finish(
        session, message_id, now,
        status=MessageStatus.SENT, sent_at=now, last_error=None, provider_message_id=provider_id,
    )
    # A delivered sign-in code or link has no business staying readable in the database.
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.kind.in_(SECRET_KINDS))
        .values(body="[delivered; redacted]", data=None)
        .execution_options(synchronize_session=False)
    )


async def record_failed(session: AsyncSession, message_id: uuid.UUID, error: str, now: datetime) -> None:
    await _finish(session, message_id, now, status=MessageStatus.FAILED, last_error=error[:_ERROR_LIMIT])


async def record_retry(
    session: AsyncSession, message_id: uuid.UUID, error: str, now: datetime, retry_at: datetime
) -> None:
    await _finish(session, message_id, now, last_error=error[:_ERROR_LIMIT], next_attempt_at=retry_at)


async def _finish(session: AsyncSession, message_id: uuid.UUID, now: datetime, **values: object) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING)
        .values(locked_until=None, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


async def overdue(
    session: AsyncSession, now: datetime, limit: int = 500
) -> list[tuple[uuid.UUID, int]]:
    """PENDING messages whose attempt is a grace period overdue and not held: (id, attempts)."""
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.attempts)
        .where(
            OutboxMessage.status == MessageStatus.PENDING,
            OutboxMessage.next_attempt_at <= now - SWEEP_GRACE,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )
    return [(row.id, row.attempts) for row in rows]
