"""Running a mutation: the service in its own savepoint, domain errors as the payload's errors.

    @strawberry.mutation
    async def create_thing(self, info: Info, input: CreateThingInput) -> CreateThingPayload:
        async def call(session: AsyncSession) -> CreateThingPayload:
            thing = await service.create_thing(session, info.context.actor, input.to_data())
            return CreateThingPayload(thing=Thing.from_model(thing))
        return await mutate(info, call, CreateThingPayload, ThingError)

A refused mutation writes nothing and publishes nothing: the savepoint and the effects it
buffered are dropped. Several mutations in one document each get their own savepoint; the
request commits once at the end (graph.extensions.UnitOfWorkExtension), keeping what the
successful fields did. Every root mutation resolver must write through `mutate` (or its own
savepoint): an unexpected exception then undoes that field alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from domain.errors import DomainError, Problem

P = TypeVar("P")


class ErrorType(Protocol):
    codes: ClassVar[type[Enum]]

    def __init__(self, *, field: str | None, code: Any, message: str) -> None: ...


def to_errors(problems: list[Problem], error: type[ErrorType]) -> list[Any]:
    return [error(field=p.field, code=error.codes(p.code), message=p.message) for p in problems]


async def mutate(
    info: Info,
    call: Callable[[AsyncSession], Awaitable[P]],
    payload: Callable[..., P],
    error: type[ErrorType],
) -> P:
    try:
        async with info.context.uow.savepoint() as session:
            return await call(session)  # an unexpected exception rolls the savepoint back too
    except DomainError as refused:
        return payload(errors=to_errors(refused.problems, error))
