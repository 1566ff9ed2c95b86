"""Per-request dataloaders. One class per relation; the request holds one instance of each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from graph.context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(DataLoader[K, V], Generic[K, V]):
    """Batches every `load` of one tick into one `fetch` call, run with the request's session.

    Sibling resolvers run concurrently but one AsyncSession runs one statement at a time, so
    batches take the unit of work's lock in turn.
    """

    def __init__(self, context: Context) -> None:
        super().__init__(load_fn=self._load)
        self.context = context

    async def _load(self, keys: Sequence[K]) -> list[V]:
        # When every caller waiting on a batch is cancelled (a request cancelled as a whole, say),
        # strawberry's DataLoader cancels the batch too. A statement cut off midway makes asyncpg
        # close the connection, taking the request's transaction with it, so the batch always
        # runs to its end; a cancelled caller just never sees the result. (Sibling fields are no
        # longer cancelled by graphql-core at all: graph.settle.)
        batch = asyncio.ensure_future(self._fetch_serialized(list(keys)))
        try:
            return await asyncio.shield(batch)
        except asyncio.CancelledError:
            await _settled(batch)
            raise

    async def _fetch_serialized(self, keys: list[K]) -> list[V]:
        async with self.context.uow.serialized() as session:
            return await self.fetch(session, keys)

    # Not named `batch`: strawberry's DataLoader keeps its pending batch in `self.batch`.
    async def fetch(self, session: AsyncSession, keys: list[K]) -> list[V]:
        raise NotImplementedError


async def _settled(task: asyncio.Future[Any]) -> None:
    """Wait for the task to end, through further cancellations; its outcome is not wanted."""
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
