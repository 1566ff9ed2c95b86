"""Stand-ins for graph.subscriptions (user_events, fresh_context) until it lands on main.

Same signatures and the same guarantee that matters here: a subscriber hears only its own
channel, user:<viewer id>. Delete this module and import from graph.subscriptions once merged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from strawberry.types import Info

from graph.context import Context

try:
    from graph.subscriptions import fresh_context, user_events  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - replaced by the real plumbing after the merge

    @asynccontextmanager
    async def fresh_context(info: Info) -> AsyncIterator[Context]:  # type: ignore[no-redef]
        context = info.context.fresh()
        try:
            yield context
        finally:
            await context.uow.close()

    async def user_events(info: Info, kinds: set[str]) -> AsyncIterator[dict[str, Any]]:  # type: ignore[no-redef]
        actor = info.context.actor
        if actor.user_id is None:
            return
        async with info.context.runtime.bus.subscribe(f"user:{actor.user_id}") as subscription:
            async for message in subscription:
                if message.get("kind") in kinds:
                    yield message


__all__ = ["fresh_context", "user_events"]
