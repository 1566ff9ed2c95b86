"""One local subscriber's bounded buffer, and the two errors the bus raises."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from prometheus_client import Counter

log = logging.getLogger("tally.bus")

DROPPED = Counter("tally_bus_dropped_subscribers_total", "Subscribers dropped for falling behind")


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
        """Called by the channel's fan-out task; never blocks, whatever the reader does."""
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
