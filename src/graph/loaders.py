"""Per-request dataloaders. One class per relation; the request holds one instance of each."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

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
        async with self.context.uow.serialized() as session:
            return await self.fetch(session, list(keys))

    # Not named `batch`: strawberry's DataLoader keeps its pending batch in `self.batch`.
    async def fetch(self, session: AsyncSession, keys: list[K]) -> list[V]:
        raise NotImplementedError
