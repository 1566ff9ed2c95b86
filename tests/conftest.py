"""Fixtures: a fresh database per run (PostgreSQL and the embedded SQLite), a rolled-back
transaction per test, the app on that transaction, and a GraphQL client that speaks like the
React client. Given / when / then lives in the tests themselves."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

import db.models
from db.engine import Database, create_engine
from db.migrate import upgrade_async
from graph.app import create_app
from jobs.queue import InProcessQueue
from tally.bus import EventBus
from tally.clock import clock as the_clock
from tally.runtime import Runtime
from tally.settings import Settings, load_settings
from tests.support.backends import (
    create_postgres_database,
    discover,
    drop_postgres_database,
    flush_redis,
    in_ci,
)
from tests.support.client import GraphQLClient

SERVERS = discover()


def _backends() -> list[str]:
    wanted = os.environ.get("TALLY_TEST_BACKENDS")
    if wanted:
        return [b.strip() for b in wanted.split(",") if b.strip()]
    return ["postgresql", "sqlite"] if SERVERS.postgres_url else ["sqlite"]


BACKENDS = _backends()


def pytest_configure(config: pytest.Config) -> None:
    if in_ci() and SERVERS.skipped:
        pytest.exit("CI=true needs real servers: " + "; ".join(SERVERS.skipped), returncode=1)


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"tally backends: {', '.join(BACKENDS)}"]
    lines += [f"tally: {line}" for line in SERVERS.skipped]
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in SERVERS.skipped:
        terminalreporter.write_line(f"tally: {line}", yellow=True)


@dataclass
class Backend:
    kind: str
    settings: Settings
    engine: AsyncEngine
    bus: EventBus

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"


@pytest.fixture(scope="session", params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    kind = request.param
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if kind == "postgresql":
        if SERVERS.postgres_url is None:
            pytest.skip("PostgreSQL is unreachable")
        url = await create_postgres_database(SERVERS.postgres_url)
        redis_url = SERVERS.redis_url
    else:
        tmp = tempfile.TemporaryDirectory(prefix="tally-test-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'tally.db'}"
        redis_url = None
    if redis_url:
        await flush_redis(redis_url)
    await upgrade_async(url)
    settings = load_settings(env="test", database_url=url, redis_url=redis_url, secret_key="t" * 48)
    engine = create_engine(url)
    bus = EventBus(redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    await bus.connect()
    try:
        yield Backend(kind=kind, settings=settings, engine=engine, bus=bus)
    finally:
        await bus.disconnect()
        await engine.dispose()
        if kind == "postgresql":
            await drop_postgres_database(SERVERS.postgres_url, url)
        if tmp is not None:
            tmp.cleanup()


@pytest.fixture(autouse=True)
def _backend_markers(request: pytest.FixtureRequest) -> None:
    if "backend" not in request.fixturenames:
        return
    kind = request.getfixturevalue("backend").kind
    if request.node.get_closest_marker("postgres") and kind != "postgresql":
        pytest.skip("needs PostgreSQL (row locks and real concurrency)")
    if request.node.get_closest_marker("redis") and (kind != "postgresql" or SERVERS.redis_url is None):
        pytest.skip("needs Redis")


@pytest.fixture(autouse=True)
def clock() -> AsyncIterator[object]:
    """Tests move time with clock.advance(...); it is reset after each test.

    Each test starts just after a whole day, so fixed windows (rate limits, daily jobs) never
    roll over in the middle of a test whatever the wall clock says.
    """
    the_clock.reset()
    the_clock.start_of_period(timedelta(days=1))
    yield the_clock
    the_clock.reset()


@pytest.fixture
async def connection(backend: Backend) -> AsyncIterator[AsyncConnection]:
    """The test's outer transaction: everything the test and the app write is rolled back."""
    async with backend.engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            if outer.is_active:
                await outer.rollback()


@pytest.fixture
async def runtime(backend: Backend, connection: AsyncConnection) -> AsyncIterator[Runtime]:
    rt = Runtime(
        backend.settings,
        database=Database(backend.engine, bind=connection),
        jobs=InProcessQueue(),
        bus=backend.bus,
    )
    await rt.jobs.start(rt.job_context())
    try:
        yield rt
    finally:
        await rt.jobs.stop()
        if rt.redis is not None:
            await rt.redis.aclose()
            # Redis is not inside the rolled-back transaction: rate limits and caches go here.
            await flush_redis(backend.settings.redis_url)


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """A session on the test's transaction, for given-steps and then-checks."""
    async with runtime.database.sessions() as s:
        yield s


@pytest.fixture
async def gql(runtime: Runtime) -> AsyncIterator[GraphQLClient]:
    client = GraphQLClient(create_app(runtime=runtime), after_request=runtime.jobs.drain)
    try:
        yield client
    finally:
        await client.aclose()


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(db.models.Base.metadata.sorted_tables)]
    if not tables:
        return
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{table}"' for table in tables)
            await conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
async def committed_runtime(backend: Backend) -> AsyncIterator[Runtime]:
    """A runtime whose writes really commit (concurrency, live servers); tables emptied after."""
    rt = Runtime(backend.settings, database=Database(backend.engine), jobs=InProcessQueue(), bus=backend.bus)
    await rt.jobs.start(rt.job_context())
    try:
        yield rt
    finally:
        await rt.jobs.stop()
        if rt.redis is not None:
            await rt.redis.aclose()
        await _empty_tables(backend.engine)
        if backend.settings.redis_url:
            await flush_redis(backend.settings.redis_url)
