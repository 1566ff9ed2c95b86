"""The security audit trail: who did what to an account, from where. Only ever appended to."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import SecurityEvent
from domain.actor import Actor
from tally.clock import clock


class EventType(StrEnum):
    REGISTERED = "registered"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_WHILE_LOCKED = "sign_in_while_locked"
    LOCKED_OUT = "locked_out"
    OTP_SENT = "otp_sent"
    OTP_FAILED = "otp_failed"
    SIGNED_OUT = "signed_out"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    PASSWORD_REHASHED = "password_rehashed"
    EMAIL_VERIFIED = "email_verified"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    DEVICE_TRUSTED = "device_trusted"


def record(
    session: AsyncSession,
    type: EventType,
    actor: Actor,
    user_id: uuid.UUID | None,
    **details: Any,
) -> SecurityEvent:
    event = SecurityEvent(
        type=type.value,
        user_id=user_id,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:400] or None,
        created_at=clock.now(),
        details=details,
    )
    session.add(event)
    return event
