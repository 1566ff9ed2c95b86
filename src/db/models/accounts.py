"""Accounts: users, sign-ins and their refresh tokens, two-factor, one-time tokens, the audit trail.

Secrets (refresh tokens, device tokens, reset and verification tokens, OTP codes) are stored only
as hashes, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey, utcnow

ROLES = ("MEMBER", "CHILD", "MODERATOR", "ADMIN")
OTP_CHANNELS = ("EMAIL", "SMS")
ACCOUNT_TOKEN_PURPOSES = ("VERIFY_EMAIL", "RESET_PASSWORD")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    # Adults sign in with an email, children with a username; both unique whatever the case.
    email: Mapped[str | None] = mapped_column(String(254))
    username: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="MEMBER")
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None]
    two_factor_channel: Mapped[str | None] = mapped_column(String(8))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_users_lower_email", func.lower(email), unique=True),
        Index("uq_users_lower_username", func.lower(username), unique=True),
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint(f"two_factor_channel IS NULL OR {_one_of('two_factor_channel', OTP_CHANNELS)}",
                        name="two_factor_channel"),
        CheckConstraint("email IS NOT NULL OR username IS NOT NULL", name="login"),
    )

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class SignIn(UUIDPrimaryKey, Base):
    """One signed-in device: the `sid` of its access tokens and the family of its refresh tokens."""

    __tablename__ = "sign_ins"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class RefreshToken(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_tokens"

    sign_in_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sign_ins.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when it is exchanged; presenting it again is reuse, a sign of theft.
    used_at: Mapped[datetime | None]


class TrustedDevice(UUIDPrimaryKey, Base):
    __tablename__ = "trusted_devices"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OtpChallenge(UUIDPrimaryKey, Base):
    __tablename__ = "otp_challenges"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    consumed_at: Mapped[datetime | None]


class AccountToken(UUIDPrimaryKey, Base):
    """A single-use link token: email verification or password reset."""

    __tablename__ = "account_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint(_one_of("purpose", ACCOUNT_TOKEN_PURPOSES), name="purpose"),)


class SecurityEvent(UUIDPrimaryKey, Base):
    """The audit trail: written once, never updated (the domain only ever inserts)."""

    __tablename__ = "security_events"

    type: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
