"""Jobs: after commit only, ids that dedupe, retries with backoff, ARQ from Redis, in-process cron."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from arq.worker import Retry
from redis.asyncio import Redis

from db.unit_of_work import transaction
from domain.notifications import outbox
from jobs.base import CronEntry, job
from jobs.cron import InProcessCron, cron_job_id
from jobs.queue import ArqQueue, InProcessQueue
from jobs.retry import Backoff
from jobs.worker import POLL_DELAY_SECONDS, build_worker, run_until_stopped
from tally import effects
from tally.runtime import Runtime
from tally.settings import load_settings
from tests.realtime.support import eventually

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

CALLS: list[tuple[str, Any]] = []


async def record(ctx: dict[str, Any], value: Any) -> str:
    CALLS.append(("record", value))
    return "done"


@job(max_tries=4)
async def flaky(ctx: dict[str, Any], fail_times: int) -> None:
    CALLS.append(("flaky", ctx["job_try"]))
    if ctx["job_try"] <= fail_times:
        raise Retry(defer=ctx["runtime"].backoff.delay(ctx["job_try"]))


async def tick(ctx: dict[str, Any]) -> None:
    CALLS.append(("tick", ctx["job_id"]))


TEST_JOBS = [record, flaky, tick]
TINY = Backoff(base_seconds=0.001, cap_seconds=0.01)


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


@pytest.fixture
async def queue(runtime: Runtime) -> AsyncIterator[InProcessQueue]:
    previous = runtime.jobs
    runtime.backoff = TINY
    runtime.jobs = InProcessQueue(TEST_JOBS)
    await runtime.jobs.start(runtime.job_context())
    try:
        yield runtime.jobs
    finally:
        await runtime.jobs.stop()
        runtime.jobs = previous


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(base_seconds=1, cap_seconds=10, jitter=False)
    assert [backoff.delay(attempt) for attempt in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    jittered = Backoff(base_seconds=4)
    assert all(2 <= jittered.delay(1) <= 4 for _ in range(50))


async def test_a_job_runs_after_the_commit_and_never_after_a_rollback(
    runtime: Runtime, queue: InProcessQueue
) -> None:
    # Given a unit of work that enqueues a job
    async with transaction(runtime.database) as session:
        effects.enqueue(session, "record", "committed")
        # Then nothing runs while the transaction is open
        await queue.drain()
        assert CALLS == []
    # When it commits, the job runs
    await queue.drain()
    assert CALLS == [("record", "committed")]

    # When another unit of work enqueues and then fails
    with pytest.raises(RuntimeError):
        async with transaction(runtime.database) as session:
            effects.enqueue(session, "record", "rolled back")
            raise RuntimeError("the write failed")
    # Then its job is dropped with it
    await queue.drain()
    assert CALLS == [("record", "committed")]


async def test_a_second_enqueue_with_the_same_job_id_is_a_no_op(runtime: Runtime, queue: InProcessQueue) -> None:
    assert await queue.enqueue("record", 1, job_id="same-work") is True
    assert await queue.enqueue("record", 1, job_id="same-work") is False
    await queue.drain()
    # Still a no-op just after it finished (as ARQ keeps the result), another id runs
    assert await queue.enqueue("record", 1, job_id="same-work") is False
    assert await queue.enqueue("record", 2, job_id="other-work") is True
    await queue.drain()
    assert CALLS == [("record", 1), ("record", 2)]


async def test_a_transient_failure_is_retried_with_backoff(runtime: Runtime, queue: InProcessQueue) -> None:
    # Given a job that fails twice, then succeeds
    await queue.enqueue("flaky", 2)
    await queue.drain()
    # Then it ran three times, the try number going up
    assert CALLS == [("flaky", 1), ("flaky", 2), ("flaky", 3)]
    assert queue.completed == 1 and queue.failed == 0


async def test_retries_stop_at_the_functions_max_tries(runtime: Runtime, queue: InProcessQueue) -> None:
    await queue.enqueue("flaky", 99)
    await queue.drain()
    assert CALLS == [("flaky", 1), ("flaky", 2), ("flaky", 3), ("flaky", 4)]
    assert queue.failed == 1


async def test_an_unknown_job_is_refused_at_enqueue(queue: InProcessQueue) -> None:
    with pytest.raises(LookupError):
        await queue.enqueue("no_such_job")


async def test_in_process_cron_runs_each_due_minute_once(runtime: Runtime, queue: InProcessQueue, clock) -> None:
    # Given a cron entry every minute and one at minute 30 only, started now
    cron = InProcessCron([CronEntry(tick), CronEntry(record, minute=30)], queue)
    await cron.start()
    try:
        # Then nothing runs in the minute it started (like ARQ, the first run is the next match)
        assert await cron.run_due() == []
        # When the clock moves a minute, the every-minute entry runs, once however often it ticks
        clock.advance(timedelta(minutes=1))
        assert await cron.run_due() == ["tick"]
        assert await cron.run_due() == []
        await queue.drain()
        minute = clock.now().replace(second=0, microsecond=0)
        assert CALLS == [("tick", cron_job_id(CronEntry(tick), minute))]
        # And the minute-30 entry runs only when a tick lands on minute 30
        half_past = minute.replace(minute=30) + (timedelta(hours=1) if minute.minute >= 30 else timedelta())
        assert "record" not in await cron.run_due(half_past - timedelta(minutes=1))
        assert "record" in await cron.run_due(half_past)
    finally:
        await cron.stop()


async def test_in_process_cron_ticks_on_its_own(runtime: Runtime, queue: InProcessQueue, clock) -> None:
    # Given the scheduler running with a short tick
    cron = InProcessCron([CronEntry(tick)], queue, tick_seconds=0.01)
    await cron.start()
    try:
        # When a minute passes on the clock, then the job runs without anyone calling it
        clock.advance(timedelta(minutes=1))
        await eventually(lambda: CALLS, what="the cron job to run")
        assert [name for name, _ in CALLS] == ["tick"]
    finally:
        await cron.stop()


async def test_the_embedded_runtime_runs_cron_in_process(tmp_path) -> None:
    settings = load_settings(env="test", database_url=f"sqlite:///{tmp_path / 'c.db'}", secret_key="c" * 40)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        assert runtime.cron is not None
        assert {entry.name for entry in runtime.cron.entries} >= {"sweep_outbox"}
    finally:
        await runtime.stop()
    assert runtime.cron is None


# -- ARQ on Redis -----------------------------------------------------------------------------


@pytest.fixture
async def arq_queue(shared_redis_url: str) -> AsyncIterator[ArqQueue]:
    queue = ArqQueue(shared_redis_url)
    await queue.start({})
    try:
        yield queue
    finally:
        await queue.stop()
        client = Redis.from_url(shared_redis_url)
        await client.flushdb()
        await client.aclose()


async def _run_worker(runtime: Runtime, redis_url: str) -> Any:
    settings = load_settings(env="test", database_url=runtime.settings.database_url, redis_url=redis_url,
                             secret_key="t" * 48)
    worker = build_worker(
        settings, runtime=runtime, functions=TEST_JOBS, cron_jobs=[], burst=True, handle_signals=False, poll_delay=0.01
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


async def test_the_arq_worker_runs_a_job_from_redis(
    runtime: Runtime, arq_queue: ArqQueue, shared_redis_url: str
) -> None:
    # Given a job enqueued in Redis
    assert await arq_queue.enqueue("record", "from redis", job_id="arq-1") is True
    # When a worker runs
    worker = await _run_worker(runtime, shared_redis_url)
    # Then it ran the job once, with the runtime in its context
    assert CALLS == [("record", "from redis")]
    assert worker.jobs_complete == 1


async def test_arq_dedupes_job_ids(runtime: Runtime, arq_queue: ArqQueue, shared_redis_url: str) -> None:
    assert await arq_queue.enqueue("record", "once", job_id="arq-same") is True
    assert await arq_queue.enqueue("record", "once", job_id="arq-same") is False
    await _run_worker(runtime, shared_redis_url)
    # And while its result is kept, the same id is still a no-op
    assert await arq_queue.enqueue("record", "once", job_id="arq-same") is False
    assert CALLS == [("record", "once")]


async def test_arq_retries_with_backoff(runtime: Runtime, arq_queue: ArqQueue, shared_redis_url: str) -> None:
    runtime.backoff = TINY
    await arq_queue.enqueue("flaky", 2)
    worker = await _run_worker(runtime, shared_redis_url)
    assert CALLS == [("flaky", 1), ("flaky", 2), ("flaky", 3)]
    assert worker.jobs_retried == 2 and worker.jobs_complete == 1


def test_the_worker_polls_faster_than_arqs_default() -> None:
    assert POLL_DELAY_SECONDS < 0.5


async def test_the_worker_process_rides_out_a_redis_restart(runtime: Runtime, private_redis) -> None:
    # Given `tally worker`'s loop running against a private Redis, and an api-side queue
    settings = load_settings(env="test", database_url=runtime.settings.database_url, redis_url=private_redis.url,
                             secret_key="t" * 48)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_until_stopped(settings, stop, runtime=runtime, functions=TEST_JOBS, cron_jobs=[], poll_delay=0.01)
    )
    api = ArqQueue(private_redis.url)
    await api.start({})
    try:
        await api.enqueue("record", "before")
        await eventually(lambda: ("record", "before") in CALLS, what="the first job")
        # When Redis dies, a job is enqueued meanwhile, and Redis comes back
        private_redis.stop()
        await api.enqueue("record", "during")
        await private_redis.start()
        # Then the same process runs the job without anyone restarting it
        await eventually(lambda: ("record", "during") in CALLS, timeout=20, what="the job enqueued during the outage")
        assert not worker.done()
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
        await api.stop()


def test_the_worker_runs_the_registry_and_its_cron_table(runtime: Runtime) -> None:
    settings = load_settings(env="test", database_url=runtime.settings.database_url,
                             redis_url="redis://127.0.0.1:6379/11", secret_key="t" * 48)
    worker = build_worker(settings, runtime=runtime, handle_signals=False)
    # Every registered job, with its own retry budget, and the cron sweep
    assert {"deliver_message", "sweep_outbox", "cron:sweep_outbox"} <= set(worker.functions)
    assert worker.functions["deliver_message"].max_tries == outbox.MAX_ATTEMPTS
    assert worker.poll_delay_s == POLL_DELAY_SECONDS
