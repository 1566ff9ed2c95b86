"""broadcaster as the bus's transport: one `Broadcast` per connection, thrown away when it fails.

`Link` is one broadcaster `Broadcast` (Redis or `memory://`) for as long as it works: the bus
publishes through it, subscribes each channel on it once, and when Redis drops or freezes the
supervisor closes the link and builds a fresh one (broadcaster never reconnects by itself).

`ReportingRedisBackend` is broadcaster's own `RedisBackend` with two changes, both about a
connection that has failed, neither reachable through broadcaster's public API:

- its listener task (`_pubsub_listener`) ends with the connection's error when Redis drops, and
  nothing in broadcaster awaits it (issue 144): the `Broadcast` keeps waiting on an empty queue,
  and asyncio later logs "Task exception was never retrieved". The subclass catches that error
  and reports it, so the bus marks itself down at once instead of at its next heartbeat, and
  logs it once, its own way;
- `unsubscribe` on a link being thrown away would make redis-py reconnect the dead pub/sub
  connection (and, against a frozen server, wait forever in the handshake) only to say goodbye;
  once the link is discarded it is a no-op, since closing the connection unsubscribes anyway.

broadcaster exports no Redis backend class (it lives in `broadcaster._backends.redis`) and
`_pubsub_listener` is private, so this is written against broadcaster 0.3.x; if an upgrade renames
it, the heartbeat still catches a dropped connection within `ping_interval`, and
tests/realtime/test_bus_outage.py (a pub/sub connection killed with the heartbeat a minute away)
fails.

Everything else (its Redis client, SUBSCRIBE/UNSUBSCRIBE, message decoding, its queue and
listener, `Broadcast`'s per-channel bookkeeping) is broadcaster's, used as is. Connection options
ride on the URL (redis-py reads them from the query string), since the backend builds its client
with `Redis.from_url(url)` and nothing else; socket_timeout must stay unset there, because
redis-py applies it to the pub/sub's blocking read and would kill an idle listener. Calls that
could hang on a frozen server are bounded with asyncio timeouts here instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broadcaster import Broadcast
from broadcaster._backends.redis import RedisBackend

log = logging.getLogger("tally.bus")

# A payload that starts with this is the bus's own (confirmations, heartbeats): no JSON text can.
MARKER = "~bus"
# Bounds the TCP connect and redis-py's close of a connection (its disconnect reuses it).
SOCKET_CONNECT_TIMEOUT_SECONDS = 2.0
CLOSE_TIMEOUT_SECONDS = 5.0


def with_connection_options(url: str) -> str:
    """The Redis URL with the options broadcaster's backend should open its connections with."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_connect_timeout", str(SOCKET_CONNECT_TIMEOUT_SECONDS))
    query.setdefault("socket_keepalive", "true")
    return urlunsplit(parts._replace(query=urlencode(query)))


class ReportingRedisBackend(RedisBackend):
    """broadcaster's Redis backend that reports its listener's death and can be discarded."""

    def __init__(self, url: str, on_failure: Callable[[BaseException], None]) -> None:
        super().__init__(url)
        self._on_failure = on_failure
        self._discarded = False

    async def _pubsub_listener(self) -> None:
        try:
            await super()._pubsub_listener()
        except Exception as exc:
            self._on_failure(exc)

    def discard(self) -> None:
        self._discarded = True

    async def unsubscribe(self, channel: str) -> None:
        if not self._discarded:
            await super().unsubscribe(channel)


class Link:
    """One `Broadcast`, its connection's failure (if any), and how to close it in bounded time."""

    def __init__(self, url: str) -> None:
        self.failed = asyncio.Event()
        self.failure: BaseException | None = None
        self.was_up = False
        self._connected = False
        self.backend: ReportingRedisBackend | None = None
        if url.startswith(("redis://", "rediss://")):
            self.backend = ReportingRedisBackend(with_connection_options(url), self.fail)
            self.broadcast = Broadcast(backend=self.backend)
        else:
            self.broadcast = Broadcast(url)

    def fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.failed.set()

    async def connect(self, timeout: float) -> None:
        await asyncio.wait_for(self.broadcast.connect(), timeout)
        self._connected = True

    async def publish(self, channel: str, payload: str, timeout: float) -> None:
        # No socket_timeout on broadcaster's client (see above), so a frozen Redis is bounded here.
        await asyncio.wait_for(self.broadcast.publish(channel, payload), timeout)

    async def close(self, tasks: Iterable[asyncio.Task[None]]) -> None:
        """Stop the tasks reading from this link, then close it; never waits on a dead server."""
        if self.backend is not None:
            self.backend.discard()
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_TIMEOUT_SECONDS)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                if self._connected:
                    await self.broadcast.disconnect()
                elif self.backend is not None:
                    # connect() failed before `Broadcast` started its listener, so its disconnect()
                    # would fail on the missing task: close the backend (its client, its listener).
                    await self.backend.disconnect()
        except Exception as exc:
            log.debug("event bus: closing a broadcaster link failed: %r", exc)
