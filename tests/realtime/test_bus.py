"""The event bus: local fan-out over one upstream subscription, bounded queues, JSON payloads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from tally.bus import BusUnavailable, EventBus, SlowConsumer, Subscription
from tests.realtime.support import eventually


def _namespace() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    url = None if request.param == "memory" else request.getfixturevalue("shared_redis_url")
    the_bus = EventBus(url, namespace=_namespace(), queue_size=5)
    await the_bus.connect()
    try:
        yield the_bus
    finally:
        await the_bus.disconnect()


async def _next(subscription: Subscription, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(anext(subscription), timeout)


async def test_every_local_subscriber_receives_each_event(bus: EventBus) -> None:
    # Given three subscribers on one channel and one on another
    async with AsyncExitStack() as stack:
        fans = [await stack.enter_async_context(bus.subscribe("child:1")) for _ in range(3)]
        other = await stack.enter_async_context(bus.subscribe("child:2"))
        # When two events are published on the first channel
        await bus.publish("child:1", {"n": 1})
        await bus.publish("child:1", {"n": 2})
        # Then each subscriber of that channel gets both, in order, and the other channel nothing
        for fan in fans:
            assert [await _next(fan), await _next(fan)] == [{"n": 1}, {"n": 2}]
        assert other.pending == 0


async def test_payloads_arrive_as_json_on_both_backends(bus: EventBus) -> None:
    async with bus.subscribe("c") as subscription:
        await bus.publish("c", {"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "ids": (1, 2)})
        # A datetime becomes its string and a tuple a list, in memory exactly as through Redis
        assert await _next(subscription) == {"at": "2026-01-02 03:04:05+00:00", "ids": [1, 2]}


async def test_a_subscriber_that_falls_behind_is_dropped_and_others_are_not(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a reader that keeps up and one that never reads (queue size 5)
    async with bus.subscribe("c") as fast, bus.subscribe("c") as slow:
        received = []
        for n in range(6):
            await bus.publish("c", {"n": n})
            received.append(await _next(fast))
        # When the slow one is sixth behind, then it is dropped, holding nothing
        await eventually(lambda: slow.dropped, what="the slow subscriber to be dropped")
        assert slow.pending == 0
        with pytest.raises(SlowConsumer) as dropped:
            await _next(slow)
        assert dropped.value.channel == "c" and dropped.value.limit == 5
        assert "dropped a slow subscriber on c" in caplog.text
        # And the fast one got every event and keeps receiving
        assert [m["n"] for m in received] == list(range(6))
        await bus.publish("c", {"n": 6})
        assert await _next(fast) == {"n": 6}
        # And the dropped one stays dropped: its buffer does not grow again
        assert slow.pending == 0


async def test_leaving_ends_the_iteration_and_forgets_the_channel(bus: EventBus) -> None:
    async with bus.subscribe("c") as subscription:
        assert bus.subscriber_count("c") == 1
    assert bus.subscriber_count("c") == 0
    with pytest.raises(StopAsyncIteration):
        await _next(subscription)


async def test_disconnect_ends_every_subscriber() -> None:
    bus = EventBus(None, namespace=_namespace())
    await bus.connect()
    async with bus.subscribe("c") as subscription:
        reader = asyncio.create_task(anext(subscription))
        await asyncio.sleep(0)
        await bus.disconnect()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(reader, 5)


async def test_publishing_on_a_bus_that_is_not_connected_raises() -> None:
    bus = EventBus(None)
    with pytest.raises(BusUnavailable):
        await bus.publish("c", {})


async def _numsub(url: str, channel: str) -> int:
    client = Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return count
    finally:
        await client.aclose()


async def test_one_redis_subscription_per_channel_per_process(shared_redis_url: str) -> None:
    namespace = _namespace()
    api_1 = EventBus(shared_redis_url, namespace=namespace)
    api_2 = EventBus(shared_redis_url, namespace=namespace)
    await api_1.connect()
    await api_2.connect()
    try:
        async with AsyncExitStack() as stack:
            # Given 50 subscribers on one channel in one process
            subscribers = [await stack.enter_async_context(api_1.subscribe("user:7")) for _ in range(50)]
            # Then Redis sees one subscription for them
            assert await _numsub(shared_redis_url, f"{namespace}:user:7") == 1
            # And a second process adds one more, not fifty
            on_other = await stack.enter_async_context(api_2.subscribe("user:7"))
            assert await _numsub(shared_redis_url, f"{namespace}:user:7") == 2
            # When the second process publishes, then every subscriber of both processes receives it
            await api_2.publish("user:7", {"hello": "world"})
            for subscriber in [*subscribers, on_other]:
                assert await _next(subscriber) == {"hello": "world"}
        # When they all leave, the process unsubscribes upstream
        async def unsubscribed() -> bool:
            return await _numsub(shared_redis_url, f"{namespace}:user:7") == 0

        await eventually(unsubscribed, what="the channel to be unsubscribed upstream")
    finally:
        await api_1.disconnect()
        await api_2.disconnect()


async def test_subscribe_returns_once_redis_confirms(shared_redis_url: str) -> None:
    # Given a fresh subscriber, when an event is published the moment subscribe returns
    bus = EventBus(shared_redis_url, namespace=_namespace())
    await bus.connect()
    try:
        for n in range(20):
            async with bus.subscribe(f"fresh:{n}") as subscription:
                await bus.publish(f"fresh:{n}", {"n": n})
                # Then it is not missed
                assert await _next(subscription) == {"n": n}
    finally:
        await bus.disconnect()


async def test_a_channel_left_and_joined_again_at_once_still_receives(bus: EventBus) -> None:
    # Given a channel that is left and joined again straight away, many times over (broadcaster's
    # unsubscribe of the old subscription and subscribe of the new one race each other)
    for n in range(20):
        async with bus.subscribe("again") as subscription:
            # When an event is published the moment subscribe returns
            await bus.publish("again", {"n": n})
            # Then it arrives every time
            assert await _next(subscription) == {"n": n}
    assert bus.subscriber_count("again") == 0


async def test_another_process_joining_a_channel_sends_nothing_to_its_subscribers(
    shared_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    namespace = _namespace()
    api_1 = EventBus(shared_redis_url, namespace=namespace)
    api_2 = EventBus(shared_redis_url, namespace=namespace)
    await api_1.connect()
    await api_2.connect()
    try:
        async with api_1.subscribe("user:7") as here:
            # When another process subscribes to the channel (confirming its subscription through it)
            async with api_2.subscribe("user:7"):
                # Then the subscriber here gets nothing but the next real event
                await api_2.publish("user:7", {"real": True})
                assert await _next(here) == {"real": True}
                assert here.pending == 0
                assert "malformed" not in caplog.text
    finally:
        await api_1.disconnect()
        await api_2.disconnect()
