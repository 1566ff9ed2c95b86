"""Messages queued while Redis is down are delivered once it is back; `tally worker` delivers from Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from db.models.notifications import MessageStatus, OutboxMessage
from db.unit_of_work import transaction
from domain.notifications.outbox import queue_message
from domain.notifications.providers import Providers
from jobs.queue import ArqQueue
from jobs.retry import Backoff
from jobs.worker import build_worker
from tally.runtime import Runtime
from tally.settings import load_settings
from tests.realtime.support import PrivateRedis, eventually

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def arq_runtime(runtime: Runtime, private_redis: PrivateRedis, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The test runtime enqueueing into ARQ on the private Redis, delivering to files."""
    previous = runtime.jobs
    runtime.jobs = ArqQueue(private_redis.url)
    await runtime.jobs.start(runtime.job_context())
    runtime.providers = Providers(f"file://{tmp_path / 'mail'}", "console://")
    runtime.backoff = Backoff(base_seconds=0.001, cap_seconds=0.01)
    try:
        yield runtime
    finally:
        await runtime.jobs.stop()
        runtime.jobs = previous


async def _queue_email(runtime: Runtime) -> uuid.UUID:
    async with transaction(runtime.database) as session:
        message = await queue_message(session, "EMAIL", "ada@example.com", "Code", "123456")
    return message.id


async def _status(runtime: Runtime, message_id: uuid.UUID) -> MessageStatus | None:
    async with runtime.database.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
        return row.status if row else None


async def _run_worker_until_idle(runtime: Runtime, redis_url: str) -> None:
    settings = load_settings(env="test", database_url=runtime.settings.database_url, redis_url=redis_url,
                             secret_key="t" * 48)
    worker = build_worker(settings, runtime=runtime, cron_jobs=[], burst=True, handle_signals=False,
                          poll_delay=0.01)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def test_a_message_queued_while_redis_is_down_is_delivered_when_it_returns(
    arq_runtime: Runtime, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    queue = arq_runtime.jobs
    assert isinstance(queue, ArqQueue)
    # Given Redis is down when a message commits
    private_redis.stop()
    message_id = await _queue_email(arq_runtime)
    # Then its job waits in the process instead of being lost
    assert len(queue.pending) == 1
    # When Redis comes back, the job reaches it by itself and a worker delivers the message
    await private_redis.start()
    await eventually(lambda: not queue.pending, what="the buffered job to reach Redis")
    await _run_worker_until_idle(arq_runtime, private_redis.url)
    assert await _status(arq_runtime, message_id) is MessageStatus.SENT
    assert (tmp_path / "mail" / f"{message_id}.json").exists()


async def test_the_sweep_delivers_what_a_dead_process_never_enqueued(
    arq_runtime: Runtime, private_redis: PrivateRedis, tmp_path: Path, clock
) -> None:
    # Given a message committed while Redis was down, by a process that then died (its buffer lost)
    private_redis.stop()
    message_id = await _queue_email(arq_runtime)
    await arq_runtime.jobs.stop()
    # When Redis and a fresh process come back, and the cron sweep runs a minute later
    await private_redis.start()
    arq_runtime.jobs = ArqQueue(private_redis.url)
    await arq_runtime.jobs.start(arq_runtime.job_context())
    clock.advance(timedelta(minutes=2))
    await arq_runtime.jobs.enqueue("sweep_outbox")
    await _run_worker_until_idle(arq_runtime, private_redis.url)
    # Then the message was delivered
    assert await _status(arq_runtime, message_id) is MessageStatus.SENT
    assert (tmp_path / "mail" / f"{message_id}.json").exists()


@pytest.mark.redis
async def test_tally_worker_delivers_from_redis(committed_runtime: Runtime, shared_redis_url: str, tmp_path) -> None:
    # Given an api process that enqueues into Redis, and `tally worker` running as its own process
    committed_runtime.jobs = ArqQueue(shared_redis_url)
    await committed_runtime.jobs.start(committed_runtime.job_context())
    mail = tmp_path / "mail"
    env = {
        **os.environ,
        "TALLY_ENV": "test",
        "TALLY_DATABASE_URL": committed_runtime.settings.database_url,
        "TALLY_REDIS_URL": shared_redis_url,
        "TALLY_EMAIL_URL": f"file://{mail}",
        "TALLY_SECRET_KEY": "w" * 48,
        "PYTHONPATH": str(REPO / "src"),
    }
    worker = subprocess.Popen(  # noqa: ASYNC220 - spawning, the waits below are bounded and polled
        [sys.executable, "-m", "tally.cli", "worker"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        # When a message commits
        message_id = await _queue_email(committed_runtime)
        # Then the worker process delivers it
        await eventually(lambda: (mail / f"{message_id}.json").exists(), timeout=30, what="the worker to deliver")
        await eventually(lambda: _is_sent(committed_runtime, message_id), what="the row to be marked SENT")
    finally:
        # And it shuts down cleanly on SIGTERM
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0].decode()
        await committed_runtime.jobs.stop()
    assert worker.returncode == 0, output
    assert "Traceback" not in output, output


async def _is_sent(runtime: Runtime, message_id: uuid.UUID) -> bool:
    return await _status(runtime, message_id) is MessageStatus.SENT
