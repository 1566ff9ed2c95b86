"""The email/SMS outbox: written with the caller's transaction, delivered after commit, never lost."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.models.notifications import MessageChannel, MessageStatus, OutboxMessage
from db.unit_of_work import transaction
from domain.notifications import outbox
from domain.notifications.outbox import queue_message
from domain.notifications.providers import Providers, TransientDeliveryError, _classify
from jobs.outbox import sweep_outbox
from jobs.queue import InProcessQueue
from jobs.retry import Backoff
from tally.runtime import Runtime
from tests.realtime.providers import FakeProviderApi
from tests.support.websocket import LiveServer

KEYS = {
    "TALLY_EMAIL_API_KEY": "re_test_key",
    "TALLY_EMAIL_FROM": "Tally <hello@tally.test>",
    "TALLY_SMS_ACCOUNT_SID": "AC123",
    "TALLY_SMS_AUTH_TOKEN": "sms-token",
    "TALLY_SMS_FROM": "+15550000000",
}


@pytest.fixture
async def outbox_runtime(runtime: Runtime, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The test runtime delivering to files under tmp_path, retrying after milliseconds."""
    runtime.providers = Providers(f"file://{tmp_path / 'mail'}", f"file://{tmp_path / 'sms'}")
    runtime.backoff = Backoff(base_seconds=0.001, cap_seconds=0.01)
    try:
        yield runtime
    finally:
        await runtime.providers.aclose()


@pytest.fixture
async def provider_api(outbox_runtime: Runtime) -> AsyncIterator[FakeProviderApi]:
    """Resend- and Twilio-shaped APIs on 127.0.0.1, used by the runtime's HTTP providers."""
    api = FakeProviderApi()
    async with LiveServer(api.app) as server:
        await outbox_runtime.providers.aclose()
        outbox_runtime.providers = Providers(server.http_url, f"{server.http_url}/2010-04-01", environ=KEYS)
        yield api


async def _drain(runtime: Runtime) -> None:
    assert isinstance(runtime.jobs, InProcessQueue)
    await runtime.jobs.drain()


async def _load(runtime: Runtime, message_id: uuid.UUID) -> OutboxMessage | None:
    async with runtime.database.sessions() as session:
        return await session.get(OutboxMessage, message_id)


async def _queue(runtime: Runtime, channel: str = "EMAIL", **fields: Any) -> uuid.UUID:
    async with transaction(runtime.database) as session:
        message = await queue_message(
            session,
            channel,
            fields.get("recipient", "ada@example.com" if channel == "EMAIL" else "+15551234567"),
            fields.get("subject", "Your code"),
            fields.get("body", "Your code is 123456."),
            dedupe_key=fields.get("dedupe_key"),
        )
    return message.id


async def test_a_message_is_written_with_the_transaction_and_delivered_after_commit(
    outbox_runtime: Runtime, tmp_path: Path, clock
) -> None:
    # Given a unit of work that queues an email
    async with transaction(outbox_runtime.database) as session:
        message = await queue_message(session, MessageChannel.EMAIL, " ada@example.com ", "Hi", "Welcome, Ada.")
        # Then nothing is delivered before the commit
        await _drain(outbox_runtime)
        assert not (tmp_path / "mail").exists()
    # When it commits, then the job delivers one file with the message
    await _drain(outbox_runtime)
    files = list((tmp_path / "mail").glob("*.json"))
    assert [file.name for file in files] == [f"{message.id}.json"]
    assert json.loads(files[0].read_text()) == {
        "id": str(message.id), "channel": "EMAIL", "to": "ada@example.com", "subject": "Hi", "body": "Welcome, Ada.",
        "kind": "message", "data": {}, "queuedAt": message.created_at.isoformat(),
    }
    # And the row says so
    row = await _load(outbox_runtime, message.id)
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 1, None)
    assert row.sent_at is not None and row.sent_at <= clock.now()
    assert row.locked_until is None


async def test_a_rolled_back_message_is_neither_stored_nor_sent(outbox_runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(outbox_runtime.database) as session:
            message = await queue_message(session, "SMS", "+15551234567", "", "Code 1")
            raise RuntimeError("the sign-in failed after all")
    await _drain(outbox_runtime)
    assert await _load(outbox_runtime, message.id) is None
    assert not (tmp_path / "sms").exists()


async def test_the_same_dedupe_key_queues_one_message(outbox_runtime: Runtime, tmp_path: Path) -> None:
    first = await _queue(outbox_runtime, dedupe_key="welcome:ada")
    # (the test's sessions share one connection: let the first delivery finish before writing again)
    await _drain(outbox_runtime)
    second = await _queue(outbox_runtime, dedupe_key="welcome:ada")
    await _drain(outbox_runtime)
    assert first == second
    assert len(list((tmp_path / "mail").glob("*.json"))) == 1


async def test_a_bad_recipient_or_channel_is_a_programming_error(outbox_runtime: Runtime) -> None:
    async with transaction(outbox_runtime.database) as session:
        with pytest.raises(ValueError):
            await queue_message(session, "EMAIL", "  ", "s", "b")
        with pytest.raises(ValueError):
            await queue_message(session, "PIGEON", "x", "s", "b")


async def test_the_email_api_failing_twice_retries_until_it_is_sent(
    outbox_runtime: Runtime, provider_api: FakeProviderApi
) -> None:
    # Given the provider answers 503, then 500, then accepts
    provider_api.script.extend([503, 500])
    # When an email is queued and its job runs
    message_id = await _queue(outbox_runtime, recipient="ada@example.com", subject="Code", body="123456")
    await _drain(outbox_runtime)
    # Then it was sent on the third attempt and nothing of the failures remains but the count
    row = await _load(outbox_runtime, message_id)
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 3, None)
    assert row.provider_message_id == "email-3"
    # And every attempt was the same Resend-shaped request, keyed for idempotency
    assert len(provider_api.received) == 3
    for request in provider_api.received:
        assert request.path == "/emails"
        assert request.headers["authorization"] == "Bearer re_test_key"
        assert request.headers["idempotency-key"] == str(message_id)
        assert request.json == {
            "from": "Tally <hello@tally.test>", "to": ["ada@example.com"], "subject": "Code", "text": "123456",
        }


async def test_a_refusal_marks_the_message_failed_with_the_reason(
    outbox_runtime: Runtime, provider_api: FakeProviderApi
) -> None:
    provider_api.script.append(422)
    message_id = await _queue(outbox_runtime)
    await _drain(outbox_runtime)
    row = await _load(outbox_runtime, message_id)
    assert row is not None
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 1)
    assert row.last_error is not None and "HTTP 422" in row.last_error and "scripted 422" in row.last_error
    assert len(provider_api.received) == 1  # not retried


async def test_an_sms_goes_to_the_twilio_shaped_api(outbox_runtime: Runtime, provider_api: FakeProviderApi) -> None:
    message_id = await _queue(outbox_runtime, "SMS", recipient="+15551234567", body="Code 654321")
    await _drain(outbox_runtime)
    row = await _load(outbox_runtime, message_id)
    assert row is not None and row.status is MessageStatus.SENT and row.provider_message_id == "SM1"
    [request] = provider_api.received
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.form == {"To": "+15551234567", "From": "+15550000000", "Body": "Code 654321"}
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:sms-token").decode()


async def test_a_timeout_is_transient(outbox_runtime: Runtime) -> None:
    # Given a provider whose first request times out
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("provider too slow", request=request)
        return httpx.Response(200, json={"id": "after-timeout"})

    await outbox_runtime.providers.aclose()
    outbox_runtime.providers = Providers(
        "https://email.provider.test", "console://", environ=KEYS, transport=httpx.MockTransport(answer)
    )
    message_id = await _queue(outbox_runtime)
    await _drain(outbox_runtime)
    row = await _load(outbox_runtime, message_id)
    assert row is not None
    assert (row.status, row.attempts, row.provider_message_id) == (MessageStatus.SENT, 2, "after-timeout")
    assert str(calls[0].url) == "https://email.provider.test/emails"


async def test_a_message_that_keeps_failing_is_given_up_on_with_its_last_error(
    outbox_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an HTTP provider whose key is missing (transient: an operator can fix it)
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    await outbox_runtime.providers.aclose()
    outbox_runtime.providers = Providers("https://email.provider.test", "console://", environ={})
    message_id = await _queue(outbox_runtime)
    await _drain(outbox_runtime)
    # Then it was tried MAX_ATTEMPTS times, then marked FAILED saying why
    row = await _load(outbox_runtime, message_id)
    assert row is not None
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 3)
    assert row.last_error == "gave up after 3 attempts: TALLY_EMAIL_API_KEY is not set"


def test_retry_after_is_read_from_a_429() -> None:
    response = httpx.Response(429, headers={"retry-after": "7"}, request=httpx.Request("POST", "https://x/emails"))
    with pytest.raises(TransientDeliveryError) as raised:
        _classify(response, "email provider")
    assert raised.value.retry_after == 7


class _LostQueue(InProcessQueue):
    """A queue whose enqueues never arrive (Redis was down and the process died)."""

    async def enqueue(self, job: str, *args: Any, **options: Any) -> bool:
        raise ConnectionError("Redis is down")


async def test_the_sweep_delivers_a_message_whose_job_was_lost(
    outbox_runtime: Runtime, tmp_path: Path, clock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a message committed while its delivery job could not be enqueued
    working = outbox_runtime.jobs
    outbox_runtime.jobs = _LostQueue()
    message_id = await _queue(outbox_runtime)
    outbox_runtime.jobs = working
    assert "after-commit effect failed" in caplog.text
    ctx = outbox_runtime.job_context()
    # Then the sweep leaves it alone while its attempt is not yet overdue
    assert await sweep_outbox(ctx) == 0
    # When a minute and more has passed, the sweep re-enqueues it and it is delivered
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await sweep_outbox(ctx) == 1
    await _drain(outbox_runtime)
    row = await _load(outbox_runtime, message_id)
    assert row is not None and row.status is MessageStatus.SENT
    assert (tmp_path / "mail" / f"{message_id}.json").exists()
    # And a later sweep finds nothing to do
    clock.advance(timedelta(minutes=5))
    assert await sweep_outbox(ctx) == 0


async def test_an_attempt_in_flight_holds_the_message_until_its_lease_ends(outbox_runtime: Runtime, clock) -> None:
    # Given a message an attempt has claimed (say its worker then died)
    outbox_runtime.jobs = _LostQueue()
    message_id = await _queue(outbox_runtime)
    outbox_runtime.jobs = InProcessQueue()
    await outbox_runtime.jobs.start(outbox_runtime.job_context())
    async with transaction(outbox_runtime.database) as session:
        assert await outbox.claim(session, message_id, clock.now()) is not None
        # Then nobody else can claim it meanwhile
        assert await outbox.claim(session, message_id, clock.now()) is None
    # And the sweep skips it while the lease lasts, then picks it up
    clock.advance(timedelta(seconds=90))
    assert await sweep_outbox(outbox_runtime.job_context()) == 0
    clock.advance(outbox.LEASE)
    assert await sweep_outbox(outbox_runtime.job_context()) == 1
    await _drain(outbox_runtime)
    row = await _load(outbox_runtime, message_id)
    assert row is not None and (row.status, row.attempts) == (MessageStatus.SENT, 2)


async def test_delivering_a_sent_message_again_sends_nothing(
    outbox_runtime: Runtime, provider_api: FakeProviderApi
) -> None:
    message_id = await _queue(outbox_runtime)
    await _drain(outbox_runtime)
    # When its job runs again (a duplicate from a sweep or a replay)
    await outbox_runtime.jobs.enqueue(outbox.DELIVER_JOB, str(message_id), job_id="replay")
    await _drain(outbox_runtime)
    # Then the provider saw one request and the row is unchanged
    assert len(provider_api.received) == 1
    row = await _load(outbox_runtime, message_id)
    assert row is not None and (row.status, row.attempts) == (MessageStatus.SENT, 1)
