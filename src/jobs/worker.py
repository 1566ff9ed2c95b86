"""`tally worker`: the ARQ worker, running the registry's jobs and cron table from Redis."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from jobs.registry import CRON, FUNCTIONS
from tally.settings import Settings

# ARQ polls for new jobs every 0.5 s by default; that is the whole enqueue→start delay at idle.
POLL_DELAY_SECONDS = 0.05


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    if settings.redis_url is None:
        raise RuntimeError("tally worker needs TALLY_REDIS_URL (without it jobs run inside `tally serve`)")

    from tally.runtime import Runtime

    runtime = Runtime(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        await runtime.start(start_jobs=False)
        ctx["runtime"] = runtime

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await runtime.stop()

    options: dict[str, Any] = {
        "functions": FUNCTIONS,
        "cron_jobs": [
            cron(entry.function, minute=entry.minute, hour=entry.hour, run_at_startup=entry.run_at_startup,
                 unique=True)
            for entry in CRON
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "poll_delay": POLL_DELAY_SECONDS,
        "max_tries": 5,
        "keep_result": 60,
        "handle_signals": True,
    }
    options.update(overrides)
    return Worker(**options)
