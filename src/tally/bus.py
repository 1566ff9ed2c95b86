"""The event bus behind subscriptions: Redis pub/sub between processes, local fan-out inside one.

Why not broadcaster: its `Broadcast` gives every subscriber an unbounded queue and its listener
`await`s `queue.put`, so one stuck consumer either grows memory without limit or (bounded) stalls
every other subscriber; its Redis backend's listener task dies silently when the connection
drops and is never restarted, so subscribers hang forever (broadcaster issue 144). Fixing that
means replacing both its fan-out and its backend, which is all it does; so the bus talks to
`redis.asyncio` pub/sub directly and keeps its own fan-out:

- one process holds ONE Redis subscription per channel however many local subscribers it has;
  each upstream message is parsed once and handed to every local subscriber;
- a subscriber's buffer is bounded: when it is full the subscriber is dropped (its iterator
  raises `SlowConsumer`, logged), nobody else waits, and memory never grows;
- one supervisor task owns the pub/sub connection: it pings, notices a dead connection (error or
  no PONG), reconnects with a short capped backoff and resubscribes every channel; `healthy` is
  False while it cannot, so /health/ready reports Redis down;
- `publish` raises `BusUnavailable` when Redis cannot take the event (callers run after commit
  and log it; pub/sub is fire-and-forget, anything durable belongs in a table and a job).

Without Redis (the embedded default) the same fan-out runs in memory. Messages are JSON objects
either way, round-tripped through JSON so both backends hand subscribers the same shapes.
Messages are shared between the subscribers of a channel: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 100
# Reconnect fast at first (a restart takes a second or two), then every two seconds at most.
RECONNECT_MIN_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 2.0
# A connection that answers no PING within this long is dead even if TCP has not said so.
PING_INTERVAL_SECONDS = 5.0
PONG_TIMEOUT_SECONDS = 3.0
READ_TICK_SECONDS = 1.0
# How long a new subscriber waits for Redis to confirm, so an event published right after
# `subscribe` returns is not missed.
CONFIRM_TIMEOUT_SECONDS = 5.0

DROPPED = Counter("tally_bus_dropped_subscribers_total", "Subscribers dropped for falling behind")
CONNECTIONS = Counter("tally_bus_connections_total", "Event bus (re)connections to Redis")


class SlowConsumer(Exception):
    """The subscriber fell `limit` events behind and was dropped (close the websocket with 1013)."""

    def __init__(self, channel: str, limit: int) -> None:
        super().__init__(f"subscriber on {channel!r} fell {limit} events behind and was dropped")
        self.channel = channel
        self.limit = limit


class BusUnavailable(ConnectionError):
    """Redis could not take the event; it was not published."""


class Subscription:
    """One local subscriber: a bounded buffer read as an async iterator of dict messages."""

    __slots__ = ("_buffer", "_closed", "_error", "_waiter", "channel", "limit")

    def __init__(self, channel: str, limit: int) -> None:
        self.channel = channel
        self.limit = limit
        self._buffer: deque[dict[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._error: SlowConsumer | None = None
        self._closed = False

    @property
    def dropped(self) -> bool:
        return self._error is not None

    @property
    def pending(self) -> int:
        """Events buffered and not yet read."""
        return len(self._buffer)

    def offer(self, message: dict[str, Any]) -> None:
        if self._error is not None or self._closed:
            return
        if len(self._buffer) >= self.limit:
            # Drop the consumer, not the event stream: free what it holds and tell it why.
            self._buffer.clear()
            self._error = SlowConsumer(self.channel, self.limit)
            DROPPED.inc()
            log.warning("event bus: dropped a slow subscriber on %s (%d events behind)", self.channel, self.limit)
        else:
            self._buffer.append(message)
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            if self._error is not None:
                raise self._error
            if self._buffer:
                return self._buffer.popleft()
            if self._closed:
                raise StopAsyncIteration
            # An idle subscriber holds one future, created only while it waits.
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None


class EventBus:
    def __init__(
        self,
        url: str | None,
        namespace: str = "tally",
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        ping_interval: float = PING_INTERVAL_SECONDS,
        pong_timeout: float = PONG_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url or "memory://"
        self.uses_redis = self.url.startswith(("redis://", "rediss://"))
        if not self.uses_redis and self.url != "memory://":
            raise ValueError(f"unsupported event bus URL: {self.url.split('@')[-1]}")
        # Redis pub/sub ignores the database index; a prefix keeps deployments (and test runs) apart.
        self.namespace = namespace
        self.queue_size = queue_size
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.connected = False
        self._channels: dict[str, set[Subscription]] = {}
        self._healthy = False
        # Redis side: a client for PUBLISH, one pub/sub connection owned by the supervisor task.
        self._client: Redis | None = None
        self._listener_client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._reconnected = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self.connected:
            return
        self.connected = True
        if not self.uses_redis:
            self._healthy = True
            return
        # No hidden retries in redis-py: a failure surfaces at once and the supervisor decides.
        no_retry = Retry(NoBackoff(), 0)
        self._client = Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2, retry=no_retry)
        # Reads pass their own timeout; socket_timeout bounds the handshake with a frozen server.
        self._listener_client = Redis.from_url(
            self.url, socket_timeout=2, socket_connect_timeout=2, socket_keepalive=True, retry=no_retry
        )
        self._supervisor = asyncio.create_task(self._supervise(), name="event-bus-supervisor")
        # Give the first connection a moment so a bus that starts with Redis up starts healthy.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reconnected.wait(), CONFIRM_TIMEOUT_SECONDS)

    async def disconnect(self) -> None:
        if not self.connected:
            return
        self.connected = False
        self._healthy = False
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        for client in (self._client, self._listener_client):
            if client is not None:
                await client.aclose()
        self._client = self._listener_client = None
        for subscribers in self._channels.values():
            for subscription in subscribers:
                subscription.close()

    @property
    def healthy(self) -> bool:
        """Connected and (with Redis) holding a live pub/sub connection."""
        return self.connected and self._healthy

    def subscriber_count(self, channel: str) -> int:
        return len(self._channels.get(channel, ()))

    # -- publish and subscribe ---------------------------------------------------------------

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        if not self.connected:
            raise BusUnavailable("event bus is not connected")
        payload = json.dumps(message, default=str)
        if not self.uses_redis:
            self._deliver(channel, json.loads(payload))
            return
        assert self._client is not None
        if not self._healthy:
            # Fail fast: a frozen Redis would otherwise hold every committed request for the
            # socket timeout. The supervisor restores health within ~a second of Redis returning.
            raise BusUnavailable(f"event bus: Redis is down, event on {channel!r} not published")
        try:
            await self._client.publish(self._upstream(channel), payload)
        except RedisError as exc:
            raise BusUnavailable(f"event bus: Redis unreachable, event on {channel!r} not published") from exc

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel, self.queue_size)
        subscribers = self._channels.get(channel)
        first = subscribers is None
        if subscribers is None:
            subscribers = self._channels[channel] = set()
        subscribers.add(subscription)
        try:
            if self.uses_redis:
                await self._subscribe_upstream(channel, send=first)
            yield subscription
        finally:
            subscription.close()
            subscribers.discard(subscription)
            if not subscribers and self._channels.get(channel) is subscribers:
                del self._channels[channel]
                if self.uses_redis:
                    await self._unsubscribe_upstream(channel)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in self._channels.get(channel, ()):
            subscription.offer(message)

    def _upstream(self, channel: str) -> str:
        return f"{self.namespace}:{channel}"

    # -- Redis -------------------------------------------------------------------------------

    async def _subscribe_upstream(self, channel: str, send: bool) -> None:
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        pubsub = self._pubsub
        if pubsub is None:
            return  # down: the supervisor subscribes every channel when it reconnects
        if send:
            try:
                await pubsub.subscribe(self._upstream(channel))
            except RedisError:
                return  # the supervisor sees the broken connection and resubscribes everything
        try:
            await asyncio.wait_for(confirmed.wait(), CONFIRM_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("event bus: Redis did not confirm the subscription to %s in time", channel)

    async def _unsubscribe_upstream(self, channel: str) -> None:
        self._confirmed.pop(channel, None)
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(RedisError):
                await pubsub.unsubscribe(self._upstream(channel))

    async def _supervise(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        failures = 0
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._healthy:
                    delay, failures = RECONNECT_MIN_SECONDS, 0
                failures += 1
                # One warning per outage; the retries that follow are noise.
                (log.warning if failures == 1 else log.debug)(
                    "event bus: Redis connection lost (%s); reconnecting", type(exc).__name__
                )
            self._mark_down()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _mark_down(self) -> None:
        self._healthy = False
        self._pubsub = None
        self._reconnected.clear()
        for event in self._confirmed.values():
            event.clear()

    async def _listen(self) -> None:
        """One pub/sub connection's life: subscribe everything, read until it fails."""
        assert self._listener_client is not None
        pubsub = self._listener_client.pubsub()
        loop = asyncio.get_running_loop()
        try:
            await pubsub.connect()
            # Published before the snapshot, so a subscriber arriving meanwhile subscribes itself.
            self._pubsub = pubsub
            channels = [self._upstream(channel) for channel in self._channels]
            if channels:
                await pubsub.subscribe(*channels)
            else:
                await pubsub.ping()
            last_reply = loop.time()
            ping_due = last_reply + self.ping_interval
            tick = min(READ_TICK_SECONDS, self.ping_interval / 2)
            while True:
                message = await pubsub.get_message(timeout=tick)
                now = loop.time()
                if message is not None:
                    last_reply = now
                    if not self._healthy:
                        self._mark_up(bool(channels))
                    self._handle(message)
                if now >= ping_due:
                    await pubsub.ping()
                    ping_due = now + self.ping_interval
                if now - last_reply > self.ping_interval + self.pong_timeout:
                    raise ConnectionError("Redis did not answer PING")
        finally:
            if self._pubsub is pubsub:
                self._pubsub = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _mark_up(self, resubscribed: bool) -> None:
        self._healthy = True
        self._reconnected.set()
        CONNECTIONS.inc()
        log.info("event bus: connected to Redis (%d channels subscribed)", len(self._channels) if resubscribed else 0)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in ("message", "subscribe"):
            return
        upstream = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        channel = upstream.removeprefix(self.namespace + ":")
        if kind == "subscribe":
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()
            return
        try:
            data = json.loads(message["data"])
        except (ValueError, TypeError):
            log.warning("event bus: ignored a malformed message on %s", channel)
            return
        self._deliver(channel, data)
