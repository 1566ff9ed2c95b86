"""Jobs that deliver the email/SMS outbox, and the sweep that re-drives what a lost job left."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from arq.worker import Retry

from db.unit_of_work import transaction
from domain.notifications import outbox
from domain.notifications.providers import PermanentDeliveryError, TransientDeliveryError
from jobs.base import job
from tally.clock import clock

if TYPE_CHECKING:
    from tally.runtime import Runtime

log = logging.getLogger(__name__)


# The row counts attempts across jobs; one job may go on retrying until the row gives up.
@job(max_tries=outbox.MAX_ATTEMPTS)
async def deliver_message(ctx: dict[str, Any], message_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    key = uuid.UUID(message_id)
    async with transaction(runtime.database) as session:
        claimed = await outbox.claim(session, key, clock.now())
    if claimed is None:
        return "skipped"  # sent, failed, unknown, or another attempt holds it
    try:
        provider_id = await runtime.providers.send(claimed.message)
    except PermanentDeliveryError as exc:
        log.warning("outbox: %s %s refused: %s", claimed.message.channel.value, message_id, exc)
        async with transaction(runtime.database) as session:
            await outbox.record_failed(session, key, str(exc), clock.now())
        return "failed"
    except Exception as exc:
        # Transient, or a fault we do not know: either way the message must not be lost.
        error = str(exc) if isinstance(exc, TransientDeliveryError) else f"{type(exc).__name__}: {exc}"
        return await _retry_later(runtime, key, claimed.attempts, error, exc)
    async with transaction(runtime.database) as session:
        await outbox.record_sent(session, key, provider_id, clock.now())
    return "sent"


async def _retry_later(runtime: Runtime, key: uuid.UUID, attempts: int, error: str, exc: Exception) -> str:
    now = clock.now()
    if attempts >= outbox.MAX_ATTEMPTS:
        log.error("outbox: message %s given up after %d attempts: %s", key, attempts, error)
        async with transaction(runtime.database) as session:
            await outbox.record_failed(session, key, f"gave up after {attempts} attempts: {error}", now)
        return "failed"
    retry_after = exc.retry_after if isinstance(exc, TransientDeliveryError) else None
    delay = max(retry_after or 0.0, runtime.backoff.delay(attempts))
    log.warning("outbox: message %s attempt %d failed (%s); retrying in %.1fs", key, attempts, error, delay)
    async with transaction(runtime.database) as session:
        await outbox.record_retry(session, key, error, now, retry_at=now + timedelta(seconds=delay))
    raise Retry(defer=delay)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Enqueue delivery of PENDING messages whose attempt is overdue (their job was lost)."""
    runtime: Runtime = ctx["runtime"]
    async with runtime.database.sessions() as session:
        due = await outbox.overdue(session, clock.now())
    for message_id, attempts in due:
        await runtime.jobs.enqueue(
            outbox.DELIVER_JOB, str(message_id), job_id=outbox.delivery_job_id(message_id, attempts)
        )
    if due:
        log.info("outbox sweep: re-enqueued %d overdue messages", len(due))
    return len(due)
