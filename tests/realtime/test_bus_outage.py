"""Redis goes away mid-test (a private redis-server): health says so, the bus comes back by itself."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.unit_of_work import after_commit, transaction
from graph.app import create_app
from jobs.queue import InProcessQueue
from tally import effects
from tally.bus import BusUnavailable, EventBus, Subscription
from tally.runtime import Runtime
from tally.settings import load_settings
from tests.conftest import Backend
from tests.realtime.support import PrivateRedis, eventually
from tests.support.client import GraphQLClient


async def _next(subscription: Subscription, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(anext(subscription), timeout)


@pytest.fixture
async def outage_runtime(
    backend: Backend, connection: AsyncConnection, private_redis: PrivateRedis
) -> AsyncIterator[Runtime]:
    """The app's runtime on the test's transaction, with Redis on the private server."""
    settings = load_settings(
        env="test", database_url=backend.settings.database_url, redis_url=private_redis.url, secret_key="t" * 48
    )
    bus = EventBus(private_redis.url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    runtime = Runtime(settings, database=Database(backend.engine, bind=connection), jobs=InProcessQueue(), bus=bus)
    await runtime.bus.connect()
    await runtime.jobs.start(runtime.job_context())
    try:
        yield runtime
    finally:
        await runtime.jobs.stop()
        await runtime.bus.disconnect()
        assert runtime.redis is not None
        await runtime.redis.aclose()


async def _ready(client: GraphQLClient) -> tuple[int, dict]:
    response = await client.http.get("/health/ready")
    return response.status_code, response.json()["checks"]


async def test_redis_restarted_mid_test_subscribers_get_events_again(
    outage_runtime: Runtime, private_redis: PrivateRedis
) -> None:
    bus = outage_runtime.bus
    client = GraphQLClient(create_app(runtime=outage_runtime))
    try:
        async with bus.subscribe("user:1") as before:
            # Given a subscriber receiving events and a ready process
            await bus.publish("user:1", {"n": 1})
            assert await _next(before) == {"n": 1}
            assert (await _ready(client))[0] == 200

            # When Redis dies
            private_redis.stop()

            # Then the bus knows within seconds, readiness says Redis is down, publishing raises
            await eventually(lambda: not bus.healthy, what="the bus to notice the outage")
            status, checks = await _ready(client)
            assert status == 503 and checks["redis"] == "down"
            with pytest.raises(BusUnavailable):
                await bus.publish("user:1", {"n": 2})

            # And a client subscribing during the outage is accepted and simply waits
            async with bus.subscribe("user:1") as during:
                # When Redis comes back on the same port
                await private_redis.start()

                # Then the bus reconnects and resubscribes by itself, and readiness recovers
                await eventually(lambda: bus.healthy, what="the bus to reconnect")
                assert await _ready(client) == (200, {"database": "up", "redis": "up"})
                await bus.publish("user:1", {"n": 3})
                assert await _next(before) == {"n": 3}
                assert await _next(during) == {"n": 3}
    finally:
        await client.aclose()


async def test_a_frozen_redis_is_noticed_by_ping_and_recovered(private_redis: PrivateRedis) -> None:
    # Given a bus that pings every 0.2 s (production: every 5 s)
    bus = EventBus(private_redis.url, namespace="frozen", ping_interval=0.2, pong_timeout=0.3)
    await bus.connect()
    try:
        async with bus.subscribe("c") as subscription:
            assert bus.healthy
            # When Redis stops answering without closing the connection (a partition)
            private_redis.freeze()
            # Then the missing PONG marks the bus down
            await eventually(lambda: not bus.healthy, what="the missing PONG to be noticed")
            # And once Redis answers again, the bus resubscribes and events flow
            private_redis.thaw()
            await eventually(lambda: bus.healthy, what="the bus to reconnect")
            await bus.publish("c", {"back": True})
            assert await _next(subscription) == {"back": True}
    finally:
        await bus.disconnect()


async def test_a_dropped_pubsub_connection_is_noticed_at_once_and_resubscribed(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a subscribed bus whose heartbeat is a minute away
    bus = EventBus(private_redis.url, namespace="dropped", ping_interval=60)
    await bus.connect()
    admin = Redis.from_url(private_redis.url)
    try:
        async with bus.subscribe("c") as subscription:
            # When Redis stays up but closes the pub/sub connection (broadcaster alone would leave
            # every subscriber waiting forever here: its issue 144)
            assert await admin.client_kill_filter(_type="pubsub") == 1
            # Then the bus notices without waiting for the heartbeat, resubscribes, and events flow
            await eventually(lambda: "Redis connection lost" in caplog.text, what="the drop to be noticed")
            await eventually(lambda: bus.healthy, what="the bus to reconnect")
            await bus.publish("c", {"back": True})
            assert await _next(subscription) == {"back": True}
        # And the dead connection's error was handled, not left for asyncio to report
        gc.collect()
        await asyncio.sleep(0)
        assert "exception was never retrieved" not in caplog.text
    finally:
        await admin.aclose()
        await bus.disconnect()


async def test_an_event_that_cannot_be_published_is_logged_and_the_commit_stands(
    outage_runtime: Runtime, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    # Given Redis is down
    private_redis.stop()
    await eventually(lambda: not outage_runtime.bus.healthy, what="the outage to be noticed")
    ran = []
    # When a unit of work commits with an event and a job after it
    async with transaction(outage_runtime.database) as session:
        effects.publish(session, "user:1", {"n": 1})
        after_commit(session, lambda: _record(ran))
    # Then the failed publish is logged, never raised, and the effects after it still run
    assert "after-commit effect failed" in caplog.text
    assert "BusUnavailable" in caplog.text
    assert ran == [True]


async def _record(ran: list[bool]) -> None:
    ran.append(True)
