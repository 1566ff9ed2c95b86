"""Where an email or SMS goes, chosen by URL (TALLY_EMAIL_URL / TALLY_SMS_URL).

- `console://`: logged (development).
- `file:///dir`: one JSON file per message, `<dir>/<message id>.json` (development and tests).
- `http(s)://host[/base]`: the real APIs over httpx. Email speaks the Resend shape
  (`POST {url}/emails`, bearer TALLY_EMAIL_API_KEY, from TALLY_EMAIL_FROM); SMS the Twilio shape
  (`POST {url}/Accounts/{sid}/Messages.json`, basic auth TALLY_SMS_ACCOUNT_SID /
  TALLY_SMS_AUTH_TOKEN, from TALLY_SMS_FROM). So production sets
  TALLY_EMAIL_URL=https://api.resend.com and TALLY_SMS_URL=https://api.twilio.com/2010-04-01;
  tests point the same code at a server on 127.0.0.1. Keys come from the environment only.

A provider raises `TransientDeliveryError` when trying again later may work (timeouts, 408,
429, 5xx, missing configuration) and `PermanentDeliveryError` when it will not (other 4xx).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from db.models.notifications import MessageChannel

log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10.0
_ERROR_EXCERPT = 300


@dataclass(frozen=True)
class OutgoingMessage:
    id: uuid.UUID
    channel: MessageChannel
    recipient: str
    subject: str
    body: str
    kind: str = "message"
    data: dict[str, Any] | None = None
    created_at: datetime | None = None


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    pass


class Provider(Protocol):
    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver; returns the provider's message id when it gives one."""
        ...


class ConsoleProvider:
    async def send(self, message: OutgoingMessage) -> str | None:
        log.info(
            "%s to %s: %s\n%s", message.channel.value.lower(), message.recipient, message.subject, message.body,
            extra={"outbox_message_id": str(message.id)},
        )
        return None


class FileProvider:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: OutgoingMessage) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        document = {
            "id": str(message.id),
            "channel": message.channel.value,
            "to": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "kind": message.kind,
            "data": message.data or {},
            "queuedAt": message.created_at.isoformat() if message.created_at else None,
        }
        # Written whole then renamed, so a reader never sees half a message; a resend overwrites.
        final = self.directory / f"{message.id}.json"
        partial = final.with_suffix(".json.partial")
        partial.write_text(json.dumps(document, indent=2))
        partial.replace(final)
        return final.name


class ProviderConfigurationError(TransientDeliveryError):
    """Missing keys: the message waits (and retries) until an operator fixes the environment."""


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ProviderConfigurationError(f"{name} is not set")
    return value


def _classify(response: httpx.Response, what: str) -> None:
    if response.is_success:
        return
    excerpt = response.text[:_ERROR_EXCERPT]
    message = f"{what}: HTTP {response.status_code}: {excerpt}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        retry_after = response.headers.get("retry-after", "")
        raise TransientDeliveryError(message, float(retry_after) if retry_after.isdigit() else None)
    raise PermanentDeliveryError(message)


async def _post(client: httpx.AsyncClient, what: str, url: str, **request: object) -> httpx.Response:
    try:
        response = await client.post(url, **request)  # type: ignore[arg-type]
    except httpx.TransportError as exc:  # timeouts, refused connections, resets
        raise TransientDeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc
    _classify(response, what)
    return response


class ResendEmailProvider:
    def __init__(self, base_url: str, client: httpx.AsyncClient, environ: Mapping[str, str]) -> None:
        self.url = base_url.rstrip("/") + "/emails"
        self.client = client
        self.environ = environ

    async def send(self, message: OutgoingMessage) -> str | None:
        api_key = _require(self.environ, "TALLY_EMAIL_API_KEY")
        sender = _require(self.environ, "TALLY_EMAIL_FROM")
        response = await _post(
            self.client,
            "email provider",
            self.url,
            json={"from": sender, "to": [message.recipient], "subject": message.subject, "text": message.body},
            # The message id as the idempotency key: a retry after a lost response sends once.
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": str(message.id)},
        )
        return _id_from(response, "id")


class TwilioSmsProvider:
    def __init__(self, base_url: str, client: httpx.AsyncClient, environ: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.environ = environ

    async def send(self, message: OutgoingMessage) -> str | None:
        sid = _require(self.environ, "TALLY_SMS_ACCOUNT_SID")
        token = _require(self.environ, "TALLY_SMS_AUTH_TOKEN")
        sender = _require(self.environ, "TALLY_SMS_FROM")
        response = await _post(
            self.client,
            "SMS provider",
            f"{self.base_url}/Accounts/{sid}/Messages.json",
            data={"To": message.recipient, "From": sender, "Body": message.body},
            auth=(sid, token),
        )
        return _id_from(response, "sid")


def _id_from(response: httpx.Response, key: str) -> str | None:
    try:
        value = response.json().get(key)
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def file_directory(url: str) -> Path:
    """`file:///var/mail` → /var/mail; `file://./var/mail` → ./var/mail (relative, for development)."""
    parts = urlsplit(url)
    return Path(unquote(parts.netloc + parts.path))


class Providers:
    """Both channels' providers, built from their URLs once, sharing one HTTP client."""

    def __init__(
        self,
        email_url: str,
        sms_url: str,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self.urls = {MessageChannel.EMAIL: email_url, MessageChannel.SMS: sms_url}
        self.environ = environ if environ is not None else os.environ
        self._transport = transport
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._built: dict[MessageChannel, Provider] = {}

    def for_channel(self, channel: MessageChannel) -> Provider:
        provider = self._built.get(channel)
        if provider is None:
            provider = self._built[channel] = self._build(channel, self.urls[channel])
        return provider

    async def send(self, message: OutgoingMessage) -> str | None:
        return await self.for_channel(message.channel).send(message)

    def _build(self, channel: MessageChannel, url: str) -> Provider:
        scheme = urlsplit(url).scheme
        if scheme == "console":
            return ConsoleProvider()
        if scheme == "file":
            return FileProvider(file_directory(url))
        if scheme in ("http", "https"):
            if channel is MessageChannel.EMAIL:
                return ResendEmailProvider(url, self._http(), self.environ)
            return TwilioSmsProvider(url, self._http(), self.environ)
        raise ValueError(f"unsupported {channel.value.lower()} provider URL scheme: {scheme!r}")

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, headers={"User-Agent": "tally"}
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
