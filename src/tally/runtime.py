"""The process's infrastructure, wired in one place: database, Redis, event bus, job queue, cron."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis

from db.engine import Database
from domain.notifications.providers import Providers
from jobs.cron import InProcessCron
from jobs.queue import ArqQueue, InProcessQueue, JobQueue
from jobs.registry import CRON
from jobs.retry import Backoff
from tally.bus import EventBus
from tally.effects import RUNTIME_KEY
from tally.settings import Settings

log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0


class Runtime:
    def __init__(
        self,
        settings: Settings,
        database: Database | None = None,
        jobs: JobQueue | None = None,
        bus: EventBus | None = None,
        providers: Providers | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.database = database or Database.from_url(settings.database_url)
        self.database.sessions.kw.setdefault("info", {})[RUNTIME_KEY] = self
        self.redis: Redis | None = (
            Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
            if settings.redis_url
            else None
        )
        self.bus = bus or EventBus(settings.redis_url)
        self.jobs: JobQueue = jobs or (ArqQueue(settings.redis_url) if settings.redis_url else InProcessQueue())
        # Email and SMS delivery; tests swap in providers pointed at files or a local server.
        self.providers = providers or Providers(settings.email_url, settings.sms_url)
        # Retry timing for transient job failures (tests pass a tiny base instead of sleeping).
        self.backoff = backoff or Backoff()
        self.cron: InProcessCron | None = None
        self.started = False

    async def start(self, start_jobs: bool = True) -> None:
        await self.bus.connect()
        if start_jobs:
            await self.jobs.start(self.job_context())
            if self.settings.embedded:
                # No Redis, so no worker: the cron table runs here, on the same job functions.
                self.cron = InProcessCron(CRON, self.jobs)
                await self.cron.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.cron is not None:
            await self.cron.stop()
            self.cron = None
        await self.jobs.stop()
        await self.bus.disconnect()
        await self.providers.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()

    def job_context(self) -> dict[str, Any]:
        return {"runtime": self}

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: "up", "down" or "not configured"."""
        checks: dict[str, str] = {}

        async def probe(name: str, check: Any) -> None:
            try:
                await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
                checks[name] = "up"
            except Exception as exc:
                log.warning("readiness: %s is down: %s", name, type(exc).__name__)
                checks[name] = "down"

        await probe("database", self.database.ping)
        if self.redis is not None:
            await probe("redis", self.redis.ping)
            if checks["redis"] == "up" and self.bus.uses_redis and not self.bus.healthy:
                # Redis answers, but this process's subscriptions are not back yet: live events
                # would be missed, so send no traffic here until the bus has resubscribed.
                log.warning("readiness: event bus is not subscribed to Redis")
                checks["redis"] = "down"
        else:
            checks["redis"] = "not configured"
        return checks
