"""Account mail and SMS (codes, verification and reset links), through the notifications outbox.

`send` writes the message in the caller's transaction; the outbox delivers it after the commit
with retries (TALLY_EMAIL_URL / TALLY_SMS_URL pick the provider), so a refused request sends
nothing and a provider outage delays a code but never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.notifications import MessageChannel
from domain.notifications.outbox import queue_message


@dataclass(frozen=True)
class Message:
    channel: str  # "email" or "sms"
    to: str
    kind: str  # what it is about: "otp", "verify_email", "reset_password"
    body: str
    subject: str | None = None
    # Machine-readable facts of the message (the code, the token), for templates and tests.
    data: dict[str, Any] = field(default_factory=dict)


async def send(session: AsyncSession, message: Message) -> None:
    """Queue `message`; it goes out once the session's transaction commits (never for a refused one)."""
    await queue_message(
        session,
        MessageChannel.EMAIL if message.channel == "email" else MessageChannel.SMS,
        message.to,
        message.subject or "",
        message.body,
        kind=message.kind,
        data=message.data,
    )
