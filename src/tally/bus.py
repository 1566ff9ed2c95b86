"""The event bus behind subscriptions: broadcaster on Redis, or in memory when embedded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from broadcaster import Broadcast


class EventBus:
    def __init__(self, url: str | None, namespace: str = "tally") -> None:
        self.url = url or "memory://"
        # Redis pub/sub ignores the database index; a prefix keeps deployments (and test runs) apart.
        self.namespace = namespace
        self._broadcast = Broadcast(self.url)
        self.connected = False

    async def connect(self) -> None:
        await self._broadcast.connect()
        self.connected = True

    async def disconnect(self) -> None:
        if self.connected:
            self.connected = False
            await self._broadcast.disconnect()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._broadcast.publish(channel=f"{self.namespace}:{channel}", message=json.dumps(message, default=str))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._broadcast.subscribe(channel=f"{self.namespace}:{channel}") as subscriber:

            async def messages() -> AsyncIterator[dict[str, Any]]:
                async for event in subscriber:
                    if event is None:
                        return
                    yield json.loads(event.message)

            yield messages()
