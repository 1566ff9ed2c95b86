"""graphql-core waits for sibling fields to finish instead of cancelling them.

graphql-core 3.3 cancels the pending siblings of a field whose error nulls a non-null parent
(`gather_with_cancel`). Here the siblings are resolvers reading through the request's one
database session: a statement cancelled midway makes asyncpg close the connection, so one
client error (say `first: -1` on a nested list) became an INTERNAL_SERVER_ERROR and a lost
transaction. Every sibling now runs to its end before the first error is raised, as in
graphql-core 3.2 and graphql-js; the cost is latency on error paths only.

The executor module imports the helper by name, so the name is replaced there, once, when the
schema is built (`install`); a test checks the replacement is in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import graphql.execution.executor as graphql_executor


async def gather_settled(*awaitables: Awaitable[Any]) -> list[Any]:
    """Like asyncio.gather, but raises the first error only after every awaitable has ended."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def install() -> None:
    graphql_executor.gather_with_cancel = gather_settled  # type: ignore[attr-defined]
