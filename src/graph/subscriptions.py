"""Live subscriptions: authenticated in connection_init, ended with the sign-in.

A websocket connection authenticates once, from connection_init's `authorization`; without a
valid token it is closed with 4403. From then on the process's SessionWatcher ends the whole
connection (4403) when the token expires, its sign-in is revoked, or the account is locked. Subscriptions read
the viewer's own channel `user:<id>`, so nobody hears another user's events, and build every
payload from the database with a fresh unit of work and loaders, so a subscriber sees exactly
what a query would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from starlette.websockets import WebSocket, WebSocketState
from strawberry.types import Info

from graph.context import Context
from tally.bus import EventBus, SlowConsumer
from tally.clock import clock

log = logging.getLogger(__name__)
T = TypeVar("T")

# Expiry is measured on tally's clock; checking it this often ends a session within a second.
EXPIRY_CHECK_SECONDS = 1.0
CLOSE_SESSION_ENDED = 4403
CLOSE_TRY_AGAIN_LATER = 1013


def user_channel(user_id: object) -> str:
    return f"user:{user_id}"


async def close_connection(context: Context, code: int, reason: str) -> None:
    websocket = context.request
    if isinstance(websocket, WebSocket) and websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, OSError):
            await websocket.close(code=code, reason=reason)


async def user_events(info: Info, kinds: set[str]) -> AsyncIterator[dict]:
    """The viewer's own events of the given kinds, until the connection or the bus ends."""
    context: Context = info.context
    channel = user_channel(context.actor.user_id)
    try:
        async with context.runtime.bus.subscribe(channel) as events:
            async for message in events:
                if message.get("kind") in kinds:
                    # Nested fields of this event resolve on the connection's context: give them
                    # fresh loaders, so they read the database as it is now.
                    context.forget_loaded()
                    yield message
    except SlowConsumer:
        log.warning("closing a websocket that fell behind on %s", channel)
        await close_connection(context, CLOSE_TRY_AGAIN_LATER, "Too slow; reconnect")


# Payloads being built or just built, per process: every connection of one user on one event
# awaits the same load (a user's tabs and devices all hear the event) instead of one each.
_SHARED_TTL_SECONDS = 5.0
_shared: dict[tuple[object, ...], asyncio.Future[Any]] = {}


async def shared_payload(key: tuple[object, ...], build: Callable[[], Awaitable[T]]) -> T:
    """`build()` once per key (include the viewer's id in it) for every subscriber awaiting it."""
    future = _shared.get(key)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        _shared[key] = future
        asyncio.get_running_loop().call_later(_SHARED_TTL_SECONDS, _shared.pop, key, None)
        try:
            future.set_result(await build())
        except BaseException as exc:
            _shared.pop(key, None)
            future.set_exception(exc)
            future.exception()  # the builder re-raises it; the waiters get it too
            raise
    return await asyncio.shield(future)


@contextlib.asynccontextmanager
async def fresh_context(info: Info) -> AsyncIterator[Context]:
    """A context with its own unit of work and loaders, for building one event's payload."""
    context = info.context.fresh()
    try:
        yield context
    finally:
        await context.uow.close()


class SessionWatcher:
    """Ends websocket connections when their token expires, their sign-in is revoked, or the
    account is locked (4403).

    One per process: one bus subscription per signed-in user however many connections they
    hold, and one sweeper for every connection's expiry, instead of tasks per connection (an
    idle connection should cost a dictionary entry, not three tasks).
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._connections: dict[uuid.UUID, dict[int, tuple[Context, datetime]]] = {}
        self._listeners: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def watch(self, context: Context, expires_at: datetime) -> None:
        user_id = context.actor.user_id
        assert user_id is not None
        self._connections.setdefault(user_id, {})[id(context)] = (context, expires_at)
        if user_id not in self._listeners:
            self._listeners[user_id] = asyncio.create_task(self._listen(user_id))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep())

    def forget(self, context: Context) -> None:
        user_id = context.actor.user_id
        held = self._connections.get(user_id) if user_id is not None else None
        if held is None or held.pop(id(context), None) is None:
            return
        if not held:
            del self._connections[user_id]
            listener = self._listeners.pop(user_id, None)
            if listener is not None:
                listener.cancel()

    @property
    def watched(self) -> int:
        return sum(len(held) for held in self._connections.values())

    async def _end(self, contexts: list[Context], code: int, reason: str) -> None:
        for context in contexts:
            self.forget(context)
            await close_connection(context, code, reason)

    async def _listen(self, user_id: uuid.UUID) -> None:
        try:
            async with self.bus.subscribe(user_channel(user_id)) as events:
                async for message in events:
                    held = list(self._connections.get(user_id, {}).values())
                    kind = message.get("kind")
                    if kind == "account_locked":
                        await self._end([context for context, _ in held], CLOSE_SESSION_ENDED, "Account locked")
                    elif kind == "session_revoked":
                        revoked = message.get("signInId")
                        ended = [c for c, _ in held if str(c.actor.session_id) == revoked]
                        await self._end(ended, CLOSE_SESSION_ENDED, "Session revoked")
        except SlowConsumer:
            # Missing a revocation is not an option: the user's connections reconnect and re-check.
            held = [context for context, _ in self._connections.get(user_id, {}).values()]
            self._listeners.pop(user_id, None)
            await self._end(held, CLOSE_TRY_AGAIN_LATER, "Too slow; reconnect")

    async def _sweep(self) -> None:
        while self._connections:
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)
            now = clock.now()
            expired = [
                context
                for held in list(self._connections.values())
                for context, expires_at in list(held.values())
                if expires_at <= now
            ]
            await self._end(expired, CLOSE_SESSION_ENDED, "Session expired")
