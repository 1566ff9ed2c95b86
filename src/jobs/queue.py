"""Job queues behind one interface: ARQ on Redis, or an in-process runner for the embedded default."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.worker import Retry

from jobs.registry import JobFunction, functions_by_name

log = logging.getLogger(__name__)

MAX_TRIES = 5


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter, in seconds: ~1, 2, 4, 8 … capped at five minutes."""
    return min(300.0, 2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311


class JobQueue(Protocol):
    async def start(self, ctx: dict[str, Any]) -> None: ...
    async def stop(self) -> None: ...
    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> None: ...


class ArqQueue:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.pool: ArqRedis | None = None

    async def start(self, ctx: dict[str, Any]) -> None:
        self.pool = await create_pool(RedisSettings.from_dsn(self.redis_url))

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> None:
        assert self.pool is not None, "queue not started"
        await self.pool.enqueue_job(job, *args, _job_id=job_id, _defer_by=defer_by)


class InProcessQueue:
    """Runs the same job functions as the worker, as tasks of this process, after the commit."""

    def __init__(self, functions: list[JobFunction] | None = None) -> None:
        self.functions = functions_by_name(functions)
        self.ctx: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running_ids: set[str] = set()

    async def start(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx

    async def stop(self) -> None:
        await self.drain()

    async def drain(self) -> None:
        """Wait for every job started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> None:
        function = self.functions.get(job)
        if function is None:
            raise LookupError(f"no job named {job!r}")
        if job_id is not None:
            if job_id in self._running_ids:
                return
            self._running_ids.add(job_id)
        task = asyncio.create_task(self._run(function, args, job_id, defer_by))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, function: JobFunction, args: tuple[Any, ...], job_id: str | None, defer_by: timedelta | None
    ) -> None:
        try:
            if defer_by:
                await asyncio.sleep(defer_by.total_seconds())
            for attempt in range(1, MAX_TRIES + 1):
                ctx = {**self.ctx, "job_try": attempt, "job_id": job_id}
                try:
                    await function(ctx, *args)
                    return
                except Retry as retry:
                    if attempt == MAX_TRIES:
                        log.error("job %s gave up after %d tries", function.__name__, attempt)
                        return
                    delay = retry.defer_score / 1000 if retry.defer_score else backoff(attempt)
                    await asyncio.sleep(delay)
                except Exception:
                    log.exception("job %s failed", function.__name__)
                    return
        finally:
            if job_id is not None:
                self._running_ids.discard(job_id)
