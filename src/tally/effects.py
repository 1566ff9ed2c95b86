"""What a service asks to happen once its transaction commits: publish an event, enqueue a job.

Services call these with their session; nothing leaves the process unless the commit succeeds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.unit_of_work import after_commit

if TYPE_CHECKING:
    from tally.runtime import Runtime

RUNTIME_KEY = "tally.runtime"


def runtime_of(session: AsyncSession) -> Runtime:
    return session.info[RUNTIME_KEY]


def publish(session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
    runtime = runtime_of(session)

    async def _publish() -> None:
        await runtime.bus.publish(channel, message)

    after_commit(session, _publish)


def enqueue(
    session: AsyncSession,
    job: str,
    *args: Any,
    job_id: str | None = None,
    defer_by: timedelta | None = None,
) -> None:
    runtime = runtime_of(session)

    async def _enqueue() -> None:
        await runtime.jobs.enqueue(job, *args, job_id=job_id, defer_by=defer_by)

    after_commit(session, _enqueue)
