"""`tally worker`: the ARQ worker, running the registry's jobs and cron table from Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import UTC
from typing import TYPE_CHECKING, Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func
from redis.exceptions import RedisError

from jobs.base import max_tries_of
from jobs.queue import JOB_TIMEOUT_SECONDS, KEEP_RESULT_SECONDS
from jobs.registry import CRON, FUNCTIONS
from tally.settings import Settings

if TYPE_CHECKING:
    from tally.runtime import Runtime

log = logging.getLogger(__name__)

# ARQ polls Redis for due jobs every 0.5 s by default, which is the whole enqueue→start delay at
# idle (0.25 s on average). 50 ms costs one ZRANGEBYSCORE per poll and brings it to ~25 ms
# (measured by `python -m bench fanout`).
POLL_DELAY_SECONDS = 0.05
# ARQ's worker stops at the first Redis error; `tally worker` starts a new one after this long.
RESTART_MIN_SECONDS = 0.5
RESTART_MAX_SECONDS = 10.0


def build_worker(settings: Settings, runtime: Runtime | None = None, **overrides: Any) -> Worker:
    """The worker for `tally worker`; tests pass their runtime (and burst=True) instead."""
    if settings.redis_url is None:
        raise RuntimeError("tally worker needs TALLY_REDIS_URL (without it jobs run inside `tally serve`)")

    from tally.runtime import Runtime

    owns_runtime = runtime is None
    the_runtime = runtime or Runtime(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        if owns_runtime:
            # The bus (jobs publish events) and the queue (jobs enqueue jobs); cron is ARQ's here.
            await the_runtime.start()
        ctx["runtime"] = the_runtime

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if owns_runtime:
            await the_runtime.stop()

    options: dict[str, Any] = {
        "functions": [func(function, max_tries=max_tries_of(function)) for function in FUNCTIONS],
        "cron_jobs": [
            cron(entry.function, run_at_startup=entry.run_at_startup, unique=True, **entry.arq_options())
            for entry in CRON
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "poll_delay": POLL_DELAY_SECONDS,
        "keep_result": KEEP_RESULT_SECONDS,
        "job_timeout": JOB_TIMEOUT_SECONDS,
        # Cron entries are written in UTC, like clock.now() in the in-process scheduler.
        "timezone": UTC,
        "handle_signals": True,
    }
    options.update(overrides)
    return Worker(**options)


async def run_until_stopped(settings: Settings, stop: asyncio.Event, runtime: Runtime | None = None,
                            **overrides: Any) -> None:
    """`tally worker`: run ARQ workers until `stop` is set, riding out Redis outages.

    An ARQ worker ends at the first Redis error (a restart, a failover). Instead of dying with it
    the process keeps one runtime (its bus reconnects by itself, its queue buffers) and starts a
    fresh worker once Redis answers again; jobs interrupted by the outage are retried by ARQ.
    """
    from tally.runtime import Runtime

    owns_runtime = runtime is None
    the_runtime = runtime or Runtime(settings)
    if owns_runtime:
        await the_runtime.start()
    delay = RESTART_MIN_SECONDS
    try:
        while not stop.is_set():
            worker = build_worker(settings, runtime=the_runtime, handle_signals=False, **overrides)
            started = time.monotonic()
            error = await _run_one(worker, stop)
            if error is None:
                if stop.is_set() or overrides.get("burst"):
                    return
                continue
            if not isinstance(error, (RedisError, OSError)):
                raise error
            if time.monotonic() - started > RESTART_MAX_SECONDS:
                delay = RESTART_MIN_SECONDS  # it had been running fine: a new outage
            log.warning("worker: lost Redis (%s); starting again in %.1fs", type(error).__name__, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, RESTART_MAX_SECONDS)
    finally:
        if owns_runtime:
            await the_runtime.stop()


async def _run_one(worker: Worker, stop: asyncio.Event) -> BaseException | None:
    """Run one ARQ worker until it fails or `stop` is set; returns its error, if any."""
    running = asyncio.create_task(worker.async_run(), name="arq-worker")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        # As ARQ does on SIGTERM: cancel running jobs; ARQ runs them again later.
        worker.handle_sig(signal.SIGTERM)
    with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
        await running
    error = None if running.cancelled() else running.exception()
    # close() cancels what is left and removes the health key; with Redis gone that fails,
    # so the connection pool is let go directly.
    with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
        await worker.close()
    pool = worker._pool
    if pool is not None:
        with contextlib.suppress(RedisError, OSError):
            await pool.aclose(close_connection_pool=True)
    return error
