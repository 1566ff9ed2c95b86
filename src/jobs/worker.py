"""`tally worker`: the ARQ worker, running the registry's jobs and cron table from Redis."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func

from jobs.base import max_tries_of
from jobs.queue import JOB_TIMEOUT_SECONDS, KEEP_RESULT_SECONDS
from jobs.registry import CRON, FUNCTIONS
from tally.settings import Settings

if TYPE_CHECKING:
    from tally.runtime import Runtime

# ARQ polls Redis for due jobs every 0.5 s by default, which is the whole enqueue→start delay at
# idle (0.25 s on average). 50 ms costs one ZRANGEBYSCORE per poll and brings it to ~25 ms
# (measured by `python -m bench fanout`).
POLL_DELAY_SECONDS = 0.05


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
