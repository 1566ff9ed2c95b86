"""The notifications domain's tables. For now the email/SMS outbox; in-app notifications join later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey, utcnow


class MessageChannel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class MessageStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


def _enum(kind: type[StrEnum]) -> Enum:
    # VARCHAR plus an explicit CHECK (below): the same on PostgreSQL and SQLite, easy to extend.
    return Enum(kind, native_enum=False, create_constraint=False, length=8, validate_strings=True)


class OutboxMessage(UUIDPrimaryKey, Timestamps, Base):
    """One email or SMS, written in the transaction that decided to send it, delivered by a job."""

    __tablename__ = "outbox_messages"

    channel: Mapped[MessageChannel] = mapped_column(_enum(MessageChannel))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The same key twice (a retried request, a replayed webhook) queues one message.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # When the next delivery attempt is due; the sweep re-drives rows well past it.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Held by the attempt in flight, so two workers never send the same message at once.
    locked_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        CheckConstraint("channel IN ('EMAIL', 'SMS')", name="channel"),
        CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )
