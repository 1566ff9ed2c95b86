"""A minimal outbox for account mail and SMS: one function, sent after the commit.

The provider comes from TALLY_EMAIL_URL / TALLY_SMS_URL: `console://` logs the message,
`file:///dir` writes one JSON file per message (development and tests read codes there),
`http(s)://…` posts the message as JSON. The notifications issue replaces this module with a
real outbox (stored, retried, rendered from templates); callers only ever call `send`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.unit_of_work import after_commit
from tally.effects import runtime_of

log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Message:
    channel: str  # "email" or "sms"
    to: str
    kind: str  # what it is about: "otp", "verify_email", "reset_password"
    body: str
    subject: str | None = None
    # Machine-readable facts of the message (the code, the token), for templates and tests.
    data: dict[str, Any] = field(default_factory=dict)


def send(session: AsyncSession, message: Message) -> None:
    """Deliver `message` once the session's transaction commits (never for a refused one)."""
    settings = runtime_of(session).settings
    url = settings.email_url if message.channel == "email" else settings.sms_url

    async def _deliver() -> None:
        await deliver(url, message)

    after_commit(session, _deliver)


async def deliver(url: str, message: Message) -> None:
    scheme = urlsplit(url).scheme
    if scheme == "console":
        log.info("%s to %s (%s): %s", message.channel, message.to, message.kind, message.body)
    elif scheme == "file":
        await asyncio.to_thread(_write_file, Path(unquote(urlsplit(url).path)), message)
    elif scheme in ("http", "https"):
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
            response = await client.post(url, json=asdict(message))
            response.raise_for_status()
    else:
        raise ValueError(f"no provider for {scheme}://")


def _write_file(directory: Path, message: Message) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # Names sort in sending order; the uuid keeps two messages of one nanosecond apart.
    name = f"{time.time_ns()}-{message.channel}-{message.kind}-{uuid.uuid4().hex[:8]}.json"
    (directory / name).write_text(json.dumps(asdict(message), indent=2), encoding="utf-8")
