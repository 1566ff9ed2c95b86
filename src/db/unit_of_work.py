"""One session per request; effects (events, jobs) buffered until the commit succeeds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import Database

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_PENDING_KEY = "tally.after_commit"


def after_commit(session: AsyncSession, effect: AfterCommit) -> None:
    """Run `effect` once the session's transaction commits; dropped on rollback."""
    session.info.setdefault(_PENDING_KEY, []).append(effect)


class UnitOfWork:
    """The request's session. Services flush; only the unit of work commits, exactly once."""

    def __init__(self, database: Database, short_reads: bool = False) -> None:
        self.database = database
        # A websocket connection's unit of work lives as long as the socket: its reads each take
        # a short session of their own, so no pooled connection idles in a transaction for hours.
        self.short_reads = short_reads
        self._session: AsyncSession | None = None
        # One AsyncSession runs one statement at a time; sibling resolvers take turns.
        self.lock = asyncio.Lock()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.database.sessions()
        return self._session

    @property
    def started(self) -> bool:
        return self._session is not None

    @asynccontextmanager
    async def serialized(self) -> AsyncIterator[AsyncSession]:
        async with self.lock:
            if not self.short_reads:
                yield self.session
                return
            async with self.database.sessions() as session:
                yield session

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[AsyncSession]:
        """An attempt that can fail on its own: its writes and its effects go if it raises."""
        pending = self.session.info.setdefault(_PENDING_KEY, [])
        mark = len(pending)
        try:
            async with self.lock, self.session.begin_nested():
                yield self.session
        except BaseException:
            del pending[mark:]
            raise

    async def commit(self) -> None:
        if self._session is None:
            return
        effects = self._session.info.pop(_PENDING_KEY, [])
        async with self.lock:  # after any statement still in flight (see graph.loaders)
            await self._session.commit()
        await run_effects(effects)

    async def rollback(self) -> None:
        if self._session is None:
            return
        self._session.info.pop(_PENDING_KEY, None)
        async with self.lock:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            self._session.info.pop(_PENDING_KEY, None)
            async with self.lock:
                await self._session.close()
            self._session = None


async def run_effects(effects: list[AfterCommit]) -> None:
    # The data is committed: a failing effect is logged, never turned into a failed request.
    for effect in effects:
        try:
            await effect()
        except Exception:
            log.exception("after-commit effect failed")


@asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncSession]:
    """A unit of work outside a request (jobs, CLI): commit on success, roll back on error."""
    session = database.sessions()
    try:
        yield session
        effects = session.info.pop(_PENDING_KEY, [])
        await session.commit()
    except BaseException:
        session.info.pop(_PENDING_KEY, None)
        await session.rollback()
        raise
    finally:
        await session.close()
    await run_effects(effects)
