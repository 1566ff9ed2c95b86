"""Live subscriptions: authenticated in connection_init, ended with the sign-in.

A websocket connection authenticates once, from connection_init's `authorization`; without a
valid token it is closed with 4403. From then on a watch task ends the whole connection (4403)
when the token expires, its sign-in is revoked, or the account is locked. Subscriptions read
the viewer's own channel `user:<id>`, so nobody hears another user's events, and build every
payload from the database with a fresh unit of work and loaders, so a subscriber sees exactly
what a query would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from starlette.websockets import WebSocket, WebSocketState
from strawberry.types import Info

from graph.context import Context
from tally.bus import SlowConsumer
from tally.clock import clock

log = logging.getLogger(__name__)

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
                    yield message
    except SlowConsumer:
        log.warning("closing a websocket that fell behind on %s", channel)
        await close_connection(context, CLOSE_TRY_AGAIN_LATER, "Too slow; reconnect")


@contextlib.asynccontextmanager
async def fresh_context(info: Info) -> AsyncIterator[Context]:
    """A context with its own unit of work and loaders, for building one event's payload."""
    context = info.context.fresh()
    try:
        yield context
    finally:
        await context.uow.close()


async def watch_session(context: Context, expires_at: datetime) -> None:
    """End the connection when its token expires, its sign-in is revoked, or the account locks."""
    actor = context.actor
    sign_in = str(actor.session_id)

    async def expiry() -> str:
        while clock.now() < expires_at:  # noqa: ASYNC110 - polls tally.clock, which tests move
            await asyncio.sleep(min(EXPIRY_CHECK_SECONDS, (expires_at - clock.now()).total_seconds()))
        return "Session expired"

    async def revocation() -> str:
        async with context.runtime.bus.subscribe(user_channel(actor.user_id)) as events:
            async for message in events:
                kind = message.get("kind")
                if kind == "account_locked":
                    return "Account locked"
                if kind == "session_revoked" and message.get("signInId") == sign_in:
                    return "Session revoked"
        return ""

    tasks = [asyncio.create_task(expiry()), asyncio.create_task(revocation())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        reason = next(iter(done)).result()
        if reason:
            await close_connection(context, CLOSE_SESSION_ENDED, reason)
    except SlowConsumer:
        await close_connection(context, CLOSE_TRY_AGAIN_LATER, "Too slow; reconnect")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
