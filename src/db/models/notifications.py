"""The notifications domain's tables: in-app notifications, preferences, and the email/SMS outbox."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, ForeignKey, Index, String, Text
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
    # What the message is about ("otp", "verify_email", a notification type) and its facts
    # (the code, the link token) for templates and for tests reading the file:// outbox.
    kind: Mapped[str] = mapped_column(String(64), default="message", server_default="message")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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


NOTIFICATION_STYLES = ("TOAST", "MODAL")


class Notification(UUIDPrimaryKey, Base):
    """An in-app notification. Rows are read and marked read by their recipient only."""

    __tablename__ = "notifications"

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    style: Mapped[str] = mapped_column(String(8), default="TOAST")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("style IN ('TOAST', 'MODAL')", name="style"),
        # The bell's list (newest first) and its unread count both read this index.
        Index("ix_notifications_recipient_created", "recipient_id", "created_at", "id"),
        Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
    )


class NotificationPreference(Base):
    """Whether a type of notification also goes out by email or SMS (in-app always shows)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[MessageChannel] = mapped_column(_enum(MessageChannel), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (CheckConstraint("channel IN ('EMAIL', 'SMS')", name="channel"),)


class QuietHours(Base):
    """A daily window, in the user's timezone, when email and SMS wait (security mail never does)."""

    __tablename__ = "notification_quiet_hours"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    starts: Mapped[time]
    ends: Mapped[time]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
