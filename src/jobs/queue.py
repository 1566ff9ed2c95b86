"""Job queues behind one interface: ARQ on Redis, or an in-process runner for the embedded default.

Both honour the same rules: a job id makes a second enqueue of the same work a no-op while the
first is queued, running, or recently finished; `Retry(defer=…)` retries up to the function's
`max_tries`; any other exception fails the job (logged).

Redis down: `ArqQueue.enqueue` does not raise or lose the job. It keeps the job in a bounded
in-memory buffer and a background task hands it to Redis once it answers again. That covers an
outage, not a crash of this process during one; work that must survive both keeps its state in
its own table and has a cron sweep that re-enqueues it (as the email/SMS outbox does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from arq import ArqRedis
from arq.worker import Retry
from redis.exceptions import RedisError

from jobs.base import JobFunction, max_tries_of
from jobs.registry import functions_by_name

log = logging.getLogger(__name__)

# How long a finished job's id still makes an enqueue a no-op (the worker's keep_result).
KEEP_RESULT_SECONDS = 60
JOB_TIMEOUT_SECONDS = 300
IN_PROCESS_CONCURRENCY = 10
PENDING_LIMIT = 10_000
FLUSH_RETRY_MIN_SECONDS = 0.2
FLUSH_RETRY_MAX_SECONDS = 5.0
SHUTDOWN_GRACE_SECONDS = 10.0


class JobQueue(Protocol):
    async def start(self, ctx: dict[str, Any]) -> None: ...
    async def stop(self) -> None: ...
    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class _Pending:
    job: str
    args: tuple[Any, ...]
    job_id: str | None
    defer_by: timedelta | None


class ArqQueue:
    def __init__(self, redis_url: str, *, pending_limit: int = PENDING_LIMIT) -> None:
        self.redis_url = redis_url
        self.pool: ArqRedis | None = None
        self.pending: deque[_Pending] = deque()
        self.pending_limit = pending_limit
        self._flusher: asyncio.Task[None] | None = None

    async def start(self, ctx: dict[str, Any]) -> None:
        # Built without arq's create_pool: that pings and retries for seconds, and an api
        # process should start (and buffer jobs) while Redis is briefly away.
        self.pool = ArqRedis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=2)

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self.pending and self.pool is not None:
            await self._flush_once()
        if self.pending:
            log.error("job queue: %d jobs never reached Redis and are dropped at shutdown", len(self.pending))
            self.pending.clear()
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> bool:
        """True if the job was queued (or buffered while Redis is down), False for a duplicate id."""
        assert self.pool is not None, "queue not started"
        item = _Pending(job, args, job_id, defer_by)
        if self.pending:
            self._buffer(item)  # keep order behind jobs already waiting for Redis
            return True
        try:
            return await self._send(item)
        except RedisError as exc:
            log.warning("job queue: Redis unreachable (%s); buffering %s until it returns", type(exc).__name__, job)
            self._buffer(item)
            return True

    async def _send(self, item: _Pending) -> bool:
        assert self.pool is not None
        queued = await self.pool.enqueue_job(item.job, *item.args, _job_id=item.job_id, _defer_by=item.defer_by)
        return queued is not None

    def _buffer(self, item: _Pending) -> None:
        if len(self.pending) >= self.pending_limit:
            dropped = self.pending.popleft()
            log.error("job queue: buffer full, dropped %s (%s)", dropped.job, dropped.job_id)
        self.pending.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_until_empty(), name="job-queue-flusher")

    async def _flush_once(self) -> None:
        while self.pending:
            try:
                await self._send(self.pending[0])
            except RedisError:
                return
            self.pending.popleft()

    async def _flush_until_empty(self) -> None:
        delay = FLUSH_RETRY_MIN_SECONDS
        while self.pending:
            await asyncio.sleep(delay)
            await self._flush_once()
            delay = min(delay * 2, FLUSH_RETRY_MAX_SECONDS)
        log.info("job queue: Redis is back; buffered jobs handed over")


class InProcessQueue:
    """Runs the same job functions as the worker, as tasks of this process, after the commit."""

    def __init__(
        self,
        functions: list[JobFunction] | None = None,
        *,
        concurrency: int = IN_PROCESS_CONCURRENCY,
        keep_result_seconds: float = KEEP_RESULT_SECONDS,
    ) -> None:
        self.functions = functions_by_name(functions)
        self.ctx: dict[str, Any] = {}
        self.keep_result_seconds = keep_result_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()
        # Ids queued or running, and finished ones (in finishing order) with when they expire.
        self._active: set[str] = set()
        self._finished: OrderedDict[str, float] = OrderedDict()
        self.completed = 0
        self.failed = 0

    async def start(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx

    async def stop(self) -> None:
        # Jobs sleeping on a defer or a retry would hold shutdown for minutes: cancel them now;
        # durable work is re-driven by its sweep. Running jobs get a grace period.
        waiting = [task for task in self._waiting if not task.done()]
        for task in waiting:
            task.cancel()
        if waiting:
            log.warning("job queue: %d deferred in-process jobs cancelled at shutdown", len(waiting))
        if self._tasks:
            _, unfinished = await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every job started so far, and those they enqueue (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> bool:
        function = self.functions.get(job)
        if function is None:
            raise LookupError(f"no job named {job!r}")
        if job_id is not None:
            self._forget_expired()
            if job_id in self._active or job_id in self._finished:
                return False
            self._active.add(job_id)
        task = asyncio.create_task(self._run(function, args, job_id, defer_by), name=f"job:{job}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def _forget_expired(self) -> None:
        now = time.monotonic()
        while self._finished:
            job_id, until = next(iter(self._finished.items()))
            if until > now:
                return
            del self._finished[job_id]

    async def _sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._waiting.discard(task)

    async def _run(
        self, function: JobFunction, args: tuple[Any, ...], job_id: str | None, defer_by: timedelta | None
    ) -> None:
        name = function.__name__
        max_tries = max_tries_of(function)
        try:
            if defer_by:
                await self._sleep(defer_by.total_seconds())
            for attempt in range(1, max_tries + 1):
                ctx = {**self.ctx, "job_try": attempt, "job_id": job_id}
                try:
                    async with self._slots, asyncio.timeout(JOB_TIMEOUT_SECONDS):
                        await function(ctx, *args)
                except Retry as retry:
                    if attempt == max_tries:
                        log.error("job %s (%s) gave up after %d tries", name, job_id, attempt)
                        self.failed += 1
                        return
                    await self._sleep((retry.defer_score or 0) / 1000)
                    continue
                except Exception:
                    log.exception("job %s (%s) failed", name, job_id)
                    self.failed += 1
                    return
                self.completed += 1
                return
        finally:
            if job_id is not None:
                self._active.discard(job_id)
                self._finished[job_id] = time.monotonic() + self.keep_result_seconds
