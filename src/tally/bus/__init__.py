"""The event bus behind subscriptions: broadcaster between processes, our own fan-out inside one.

broadcaster is the transport (Redis in production, `memory://` embedded). Used naively it would
break the bus's promises, so the bus holds it like this:

- Fan-out. `Broadcast` gives each of its subscribers an unbounded queue and its listener awaits
  `queue.put` for each in turn. So each channel has exactly ONE broadcaster subscriber per
  process, the channel's fan-out task: it takes each event off broadcaster's queue as soon as it
  lands, parses the JSON once and offers the message to every local subscriber's bounded buffer
  without waiting. One upstream subscription per channel per process; broadcaster's queue never
  holds more than what arrived since the task last ran; a subscriber that falls `queue_size`
  events behind is dropped (its iterator raises `SlowConsumer`, logged) and nobody else waits.
  The price is per channel, not per subscriber: broadcaster's asyncio.Queue and our task cost
  ~8.5 KiB for each channel with subscribers in this process (~2.7 KiB with plain redis-py).
- Reconnect. broadcaster never reconnects: when Redis drops, its Redis listener task dies and
  every subscriber waits forever (its issue 144). A supervisor task owns the link: it builds a
  fresh `Broadcast(url)`, connects, resubscribes every channel, then every `ping_interval` sends
  a heartbeat, a marker published on this process's own channel that must come back through
  broadcaster within `pong_timeout`. The echo covers the whole path (publishing connection,
  Redis, pub/sub connection, broadcaster's listeners), so a restart, a freeze and a silently dead
  listener all fail it. On failure the supervisor closes that `Broadcast` and builds another,
  with a short capped backoff; `healthy` is False until every channel is subscribed again, so
  /health/ready reports Redis down meanwhile. transport.py holds the one small subclass of
  broadcaster's Redis backend this needs, and why.
- Confirmation. broadcaster's `subscribe` returns once SUBSCRIBE is sent, and its listener drops
  Redis's reply. So a new channel's subscription is confirmed by publishing a marker on it until
  one comes back (any event arriving proves Redis holds the subscription), and `subscribe`
  returns only then: an event published right after it returns is not missed. Other processes
  on that channel get the marker too and skip it (no JSON text starts with `MARKER`). After a
  reconnect, all the SUBSCRIBEs go out in order on the one pub/sub connection before the
  heartbeat channel's, so the heartbeat's first echo confirms every one of them.
- `publish` raises `BusUnavailable` when Redis cannot take the event, and at once while the bus
  is down (callers run after commit and log it; pub/sub is fire-and-forget, anything durable
  belongs in a table and a job).

Messages are JSON objects, round-tripped through JSON on both backends so subscribers get the
same shapes. They are shared between the subscribers of a channel: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from prometheus_client import Counter
from redis.exceptions import RedisError

from tally.bus.subscription import BusUnavailable, SlowConsumer, Subscription
from tally.bus.transport import MARKER, Link

__all__ = ["BusUnavailable", "EventBus", "SlowConsumer", "Subscription"]

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 100
# Reconnect fast at first (a restart takes a second or two), then every two seconds at most.
RECONNECT_MIN_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 2.0
# A link whose heartbeat does not come back within the timeout is dead even if TCP has not said so.
PING_INTERVAL_SECONDS = 5.0
PONG_TIMEOUT_SECONDS = 3.0
# How long a new subscriber waits for Redis to confirm, so an event published right after
# `subscribe` returns is not missed.
CONFIRM_TIMEOUT_SECONDS = 5.0
# Connecting includes redis-py's handshake, which a frozen server accepts and never answers.
CONNECT_TIMEOUT_SECONDS = 2.0
PUBLISH_TIMEOUT_SECONDS = 2.0
# A confirmation marker is lost only when Redis reads its PUBLISH before the SUBSCRIBE it raced
# on the other connection; it is sent again after this long, doubling.
MARKER_RETRY_SECONDS = 0.05

CONNECTIONS = Counter("tally_bus_connections_total", "Event bus (re)connections to Redis")


class _Channel:
    """One channel in this process: its local subscribers and the tasks serving them."""

    __slots__ = ("_waiter", "confirmed", "confirmer", "name", "pump", "subscribers", "upstream")

    def __init__(self, name: str, upstream: str) -> None:
        self.name = name
        self.upstream = upstream
        self.subscribers: set[Subscription] = set()
        self.pump: asyncio.Task[None] | None = None
        self.confirmer: asyncio.Task[None] | None = None
        # True once an event has come back through the subscription: Redis holds it.
        self.confirmed = False
        # A future only while someone waits (an asyncio.Event's deque would cost ~0.8 KiB a channel).
        self._waiter: asyncio.Future[None] | None = None

    def confirm(self) -> None:
        self.confirmed = True
        if self._waiter is not None:
            _settle(self._waiter)
            self._waiter = None

    async def until_confirmed(self, timeout: float) -> None:
        """Return once confirmed; TimeoutError after `timeout` seconds."""
        if self.confirmed:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(asyncio.shield(self._waiter), timeout)

    def deliver(self, payload: str) -> None:
        if not self.confirmed:
            self.confirm()
        if payload.startswith(MARKER):
            return
        try:
            message = json.loads(payload)
        except (ValueError, TypeError):
            log.warning("event bus: ignored a malformed message on %s", self.name)
            return
        for subscription in self.subscribers:
            subscription.offer(message)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


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
        self._channels: dict[str, _Channel] = {}
        self._healthy = False
        # The broadcaster link events travel on now; None while Redis is down.
        self._link: Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        # This process's heartbeat channel; the "." keeps it apart from "<namespace>:<channel>".
        self._heartbeat_name = f"{namespace}.bus-heartbeat.{uuid.uuid4().hex}"
        self._heartbeat: _Channel | None = None
        # Every pump and confirmer, also those still finishing after their channel was left.
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self.connected:
            return
        self.connected = True
        if not self.uses_redis:
            link = Link(self.url)
            await link.connect(CONNECT_TIMEOUT_SECONDS)
            self._link = link
            for entry in self._channels.values():  # subscribed before connect
                self._start(entry, link, confirm=False)
            self._healthy = True
            return
        self._supervisor = asyncio.create_task(self._supervise(), name="event-bus-supervisor")
        # Give the first connection a moment so a bus that starts with Redis up starts healthy.
        with suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), CONFIRM_TIMEOUT_SECONDS)

    async def disconnect(self) -> None:
        if not self.connected:
            return
        self.connected = False
        self._healthy = False
        if self._supervisor is not None:
            self._supervisor.cancel()  # it closes its link on the way out
            with suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._link is not None:
            await self._detach(self._link)
        for entry in self._channels.values():
            for subscription in entry.subscribers:
                subscription.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=CONNECT_TIMEOUT_SECONDS)

    @property
    def healthy(self) -> bool:
        """Connected and (with Redis) holding a live, fully subscribed link."""
        return self.connected and self._healthy

    def subscriber_count(self, channel: str) -> int:
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry is not None else 0

    # -- publish and subscribe ---------------------------------------------------------------

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        if not self.connected:
            raise BusUnavailable("event bus is not connected")
        payload = json.dumps(message, default=str)
        link = self._link
        if link is None or not self._healthy:
            # Fail fast: a frozen Redis would otherwise hold every committed request for the
            # publish timeout. The supervisor restores health within ~a second of Redis returning.
            raise BusUnavailable(f"event bus: Redis is down, event on {channel!r} not published")
        try:
            await link.publish(self._upstream(channel), payload, PUBLISH_TIMEOUT_SECONDS)
        except (RedisError, OSError, TimeoutError) as exc:
            raise BusUnavailable(f"event bus: Redis unreachable, event on {channel!r} not published") from exc

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel, self.queue_size)
        entry = self._channels.get(channel)
        if entry is None:
            entry = self._channels[channel] = _Channel(channel, self._upstream(channel))
        entry.subscribers.add(subscription)
        try:
            await self._subscribe_upstream(entry)
            yield subscription
        finally:
            subscription.close()
            entry.subscribers.discard(subscription)
            if not entry.subscribers and self._channels.get(channel) is entry:
                del self._channels[channel]
                # The pump leaves broadcaster's subscription, which unsubscribes upstream.
                for task in (entry.pump, entry.confirmer):
                    if task is not None:
                        task.cancel()
                entry.pump = entry.confirmer = None

    def _upstream(self, channel: str) -> str:
        return f"{self.namespace}:{channel}"

    async def _subscribe_upstream(self, entry: _Channel) -> None:
        link = self._link
        if link is None:
            return  # down: the supervisor subscribes every channel when it reconnects
        if entry.pump is None:
            self._start(entry, link, confirm=self.uses_redis)
        try:
            await entry.until_confirmed(CONFIRM_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("event bus: Redis did not confirm the subscription to %s in time", entry.name)

    # -- the tasks per channel ---------------------------------------------------------------

    def _start(self, entry: _Channel, link: Link, *, confirm: bool) -> asyncio.Future[None]:
        """Start the channel's pump (and confirmer); returns a future done once SUBSCRIBE is sent."""
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry.pump = self._spawn(self._pump(entry, link, sent), f"event-bus:{entry.name}")
        if confirm:
            entry.confirmer = self._spawn(self._confirm_new(entry, link, sent), f"event-bus-confirm:{entry.name}")
        return sent

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _pump(self, entry: _Channel, link: Link, sent: asyncio.Future[None]) -> None:
        """The channel's only broadcaster subscriber: move each event into the local buffers."""
        try:
            async with link.broadcast.subscribe(entry.upstream) as events:
                _settle(sent)
                if link.backend is None:
                    entry.confirm()  # memory: subscribed the moment subscribe() returns
                while True:
                    event = await events.get()
                    entry.deliver(event.message)
        except Exception as exc:
            # broadcaster may raise on its way out of a cancelled subscribe: that is no failure.
            task = asyncio.current_task()
            if link is self._link and task is not None and not task.cancelling():
                log.debug("event bus: subscription to %s failed: %r", entry.name, exc)
                link.fail(exc)
        finally:
            _settle(sent)  # either way, so nobody waits for it

    async def _confirm(self, entry: _Channel, link: Link, sent: asyncio.Future[None]) -> None:
        """Publish markers on the channel until one comes back through its subscription."""
        await sent
        retry = MARKER_RETRY_SECONDS
        while not entry.confirmed:
            await link.publish(entry.upstream, MARKER, PUBLISH_TIMEOUT_SECONDS)
            with suppress(TimeoutError):
                await entry.until_confirmed(retry)
            retry = min(retry * 2, 1.0)

    async def _confirm_new(self, entry: _Channel, link: Link, sent: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(self._confirm(entry, link, sent), CONFIRM_TIMEOUT_SECONDS)
        except (TimeoutError, RedisError, OSError) as exc:
            # subscribe() warns on the timeout; the heartbeat catches a broken link.
            log.debug("event bus: could not confirm the subscription to %s: %r", entry.name, exc)

    # -- the supervisor (Redis) --------------------------------------------------------------

    async def _supervise(self) -> None:
        delay, failures = RECONNECT_MIN_SECONDS, 0
        while True:
            link = Link(self.url)
            try:
                await self._serve(link)
            except Exception as exc:
                if link.was_up:
                    delay, failures = RECONNECT_MIN_SECONDS, 0
                failures += 1
                # One warning per outage; the retries that follow are noise.
                (log.warning if failures == 1 else log.debug)(
                    "event bus: Redis connection lost (%s: %s); reconnecting", type(exc).__name__, exc
                )
            finally:
                await self._detach(link)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _serve(self, link: Link) -> None:
        """Bring one link up with every channel subscribed, then watch it until it fails."""
        try:
            await link.connect(CONNECT_TIMEOUT_SECONDS)
        except TimeoutError:
            raise ConnectionError("Redis did not answer the connection handshake in time") from None
        # From here a new subscriber subscribes (and confirms) its channel itself.
        self._link = link
        resubscribed = [entry for entry in self._channels.values() if entry.pump is None]
        sent = [self._start(entry, link, confirm=False) for entry in resubscribed]
        heartbeat = self._heartbeat = _Channel(self._heartbeat_name, self._heartbeat_name)
        async with asyncio.timeout(CONFIRM_TIMEOUT_SECONDS):
            for future in sent:
                await future
            # Subscribed last on the same connection: its echo confirms every SUBSCRIBE before it.
            await self._confirm(heartbeat, link, self._start(heartbeat, link, confirm=False))
        if link.failed.is_set():
            raise ConnectionError(f"subscribing failed: {link.failure!r}")
        for entry in resubscribed:
            entry.confirm()
        link.was_up = self._healthy = True
        self._up.set()
        CONNECTIONS.inc()
        log.info("event bus: connected to Redis (%d channels subscribed)", len(resubscribed))
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(link.failed.wait(), self.ping_interval)
            if link.failed.is_set():
                raise ConnectionError(f"broadcaster's Redis listener stopped: {link.failure!r}")
            heartbeat.confirmed = False
            try:
                async with asyncio.timeout(self.pong_timeout):
                    await link.publish(heartbeat.upstream, MARKER, self.pong_timeout)
                    await heartbeat.until_confirmed(self.pong_timeout)
            except TimeoutError:
                raise ConnectionError("the heartbeat did not come back from Redis in time") from None

    async def _detach(self, link: Link) -> None:
        """Mark the bus down, stop every task reading from the link, close it."""
        tasks: list[asyncio.Task[None]] = []
        if self._link is link:
            self._link = None
            entries = [*self._channels.values(), *([self._heartbeat] if self._heartbeat else [])]
            self._heartbeat = None
            for entry in entries:
                tasks += [task for task in (entry.pump, entry.confirmer) if task is not None]
                entry.pump = entry.confirmer = None
                entry.confirmed = False
        self._healthy = False
        self._up.clear()
        await link.close(tasks)
