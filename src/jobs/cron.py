"""The cron table run inside `tally serve` when there is no Redis (and so no worker).

Each tick looks at `clock.now()` (so tests move time instead of waiting for minutes) and enqueues
every entry due in the current minute once, with a job id naming that minute, exactly as the ARQ
worker's `unique` cron jobs do. Like ARQ, an entry first runs at its next matching minute after
start (or at once with `run_at_startup`); minutes missed while the process slept run once, not
once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from jobs.base import CronEntry
from jobs.queue import JobQueue
from tally.clock import clock

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


def cron_job_id(entry: CronEntry, minute: datetime) -> str:
    return f"cron:{entry.name}:{minute:%Y%m%d%H%M}"


class InProcessCron:
    def __init__(
        self,
        entries: list[CronEntry],
        queue: JobQueue,
        *,
        tick_seconds: float = TICK_SECONDS,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.entries = entries
        self.queue = queue
        self.tick_seconds = tick_seconds
        self.now = now
        self._last_run: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        started = _minute(self.now())
        for entry in self.entries:
            if not entry.run_at_startup:
                self._last_run[entry.name] = started
        self._task = asyncio.create_task(self._loop(), name="in-process-cron")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_due(self, moment: datetime | None = None) -> list[str]:
        """Enqueue every entry due at `moment` (default now); returns the names enqueued."""
        minute = _minute(moment or self.now())
        enqueued = []
        for entry in self.entries:
            last = self._last_run.get(entry.name)
            if (last is not None and last >= minute) or not entry.matches(minute):
                continue
            self._last_run[entry.name] = minute
            await self.queue.enqueue(entry.name, job_id=cron_job_id(entry, minute))
            enqueued.append(entry.name)
        return enqueued

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("in-process cron tick failed")
            await asyncio.sleep(self.tick_seconds)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
