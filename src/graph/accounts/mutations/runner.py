"""Running account mutations: graph.mutations.mutate, plus rate limits and kept attempts.

`run` is `mutate` that also turns a spent rate limit into a top-level RATE_LIMITED error.

`run_attempt` is for sign-in attempts (login, verifyOtp, refreshToken). A refused attempt
(`AttemptRefused`) keeps what it wrote, the failed-password count, the lock, the wrong-code
count, the revoked sign-in, and the attempt is committed at once. Otherwise a request could
undo its own failed attempts: a later field failing (say an UNAUTHENTICATED one added on
purpose, or a rate-limited alias) rolls back the request's uncommitted work, and so would
reset the count that the lockout relies on. Every alias is its own attempt and commits on its
own; mutation fields run one after another, so nothing else is in flight at that moment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from domain.accounts.errors import AttemptRefused, TooManyAttempts
from domain.errors import DomainError
from graph.accounts.types import AccountsError
from graph.errors import RateLimited
from graph.mutations import mutate, to_errors

P = TypeVar("P")


async def run(info: Info, call: Callable[[AsyncSession], Awaitable[P]], payload: Callable[..., P]) -> P:
    try:
        return await mutate(info, call, payload, AccountsError)
    except TooManyAttempts as exc:
        raise RateLimited(exc.retry_after) from None


async def run_attempt(info: Info, call: Callable[[AsyncSession], Awaitable[P]], payload: Callable[..., P]) -> P:
    uow = info.context.uow
    refused: AttemptRefused | None = None
    try:
        async with uow.savepoint() as session:
            try:
                result = await call(session)
            except AttemptRefused as exc:
                refused = exc  # leaving the block normally keeps the attempt's writes
    except DomainError as exc:
        return payload(errors=to_errors(exc.problems, AccountsError))
    except TooManyAttempts as exc:
        raise RateLimited(exc.retry_after) from None
    await uow.commit()
    if refused is not None:
        return payload(errors=to_errors(refused.problems, AccountsError))
    return result
