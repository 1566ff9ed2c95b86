"""The process's infrastructure, wired in one place: database, Redis, event bus, job queue."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis

from db.engine import Database
from jobs.queue import ArqQueue, InProcessQueue, JobQueue
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
        self.started = False

    async def start(self, start_jobs: bool = True) -> None:
        await self.bus.connect()
        if start_jobs:
            await self.jobs.start(self.job_context())
        self.started = True

    async def stop(self) -> None:
        self.started = False
        await self.jobs.stop()
        await self.bus.disconnect()
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
        else:
            checks["redis"] = "not configured"
        return checks
