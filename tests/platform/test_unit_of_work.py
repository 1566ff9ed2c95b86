"""The unit of work: services flush, one commit per mutation, effects only after the commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import strawberry
from strawberry.types import Info

import graph.schema
from db.unit_of_work import UnitOfWork, after_commit, transaction
from domain.errors import DomainError
from graph.app import create_app
from tally.runtime import Runtime
from tests.support.client import GraphQLClient


async def test_effects_run_only_after_the_commit(runtime: Runtime) -> None:
    # Given a unit of work with an effect buffered by a service
    ran: list[str] = []
    uow = UnitOfWork(runtime.database)

    async def effect() -> None:
        ran.append("published")

    after_commit(uow.session, effect)
    # Then nothing has run before the commit
    assert ran == []
    # When it commits
    await uow.commit()
    # Then the effect runs once
    assert ran == ["published"]
    await uow.close()


async def test_effects_are_dropped_on_rollback(runtime: Runtime) -> None:
    ran: list[str] = []
    uow = UnitOfWork(runtime.database)

    async def effect() -> None:
        ran.append("published")

    after_commit(uow.session, effect)
    await uow.rollback()
    await uow.commit()
    assert ran == []
    await uow.close()


async def test_a_failed_savepoint_drops_only_its_own_effects(runtime: Runtime) -> None:
    # Given one attempt that succeeds and one that is refused
    ran: list[str] = []
    uow = UnitOfWork(runtime.database)

    def remember(name: str):
        async def effect() -> None:
            ran.append(name)

        return effect

    async with uow.savepoint() as session:
        after_commit(session, remember("first"))
    with pytest.raises(DomainError):
        async with uow.savepoint() as session:
            after_commit(session, remember("refused"))
            raise DomainError.of("INVALID", "no")
    # When the request commits
    await uow.commit()
    # Then only the successful attempt's effect went out
    assert ran == ["first"]
    await uow.close()


async def test_a_failing_effect_does_not_undo_the_commit_or_stop_the_others(runtime: Runtime) -> None:
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("redis is down")

    async def fine() -> None:
        ran.append("fine")

    async with transaction(runtime.database) as session:
        after_commit(session, broken)
        after_commit(session, fine)
    assert ran == ["fine"]


async def test_transaction_rolls_back_and_drops_effects_on_error(runtime: Runtime) -> None:
    ran: list[str] = []

    async def effect() -> None:
        ran.append("x")

    with pytest.raises(ValueError):
        async with transaction(runtime.database) as session:
            after_commit(session, effect)
            raise ValueError("boom")
    assert ran == []


@strawberry.type
class _ProbeQuery:
    @strawberry.field
    def boom(self) -> int:
        raise RuntimeError("SELECT secret FROM users -- internal detail")


@strawberry.type
class _ProbeMutation:
    @strawberry.mutation
    async def remember(self, info: Info, name: str, fail: bool = False) -> bool | None:
        ran = info.context.runtime.probe

        async def effect() -> None:
            ran.append(name)

        async with info.context.uow.savepoint() as session:
            after_commit(session, effect)
            if fail:
                raise RuntimeError("unexpected")
        return True


@pytest.fixture
def probe_app(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphQLClient]:
    monkeypatch.setattr(graph.schema, "QUERIES", (*graph.schema.QUERIES, _ProbeQuery))
    monkeypatch.setattr(graph.schema, "MUTATIONS", (*graph.schema.MUTATIONS, _ProbeMutation))
    runtime.probe = []  # type: ignore[attr-defined]
    yield GraphQLClient(create_app(runtime=runtime))


async def test_unexpected_errors_are_masked_with_a_request_id(probe_app: GraphQLClient) -> None:
    # When a resolver fails in a way nobody planned for
    response = await probe_app.execute("{ boom }")
    # Then the client sees a fixed message and the request id, never the internals
    error = response.errors[0]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.http.headers["x-request-id"],
    }
    assert "secret" not in response.http.text


async def test_a_mutation_commits_once_and_then_publishes(probe_app: GraphQLClient, runtime: Runtime) -> None:
    response = await probe_app.execute('mutation { a: remember(name: "a") b: remember(name: "b") }')
    assert response.ok() == {"a": True, "b": True}
    assert runtime.probe == ["a", "b"]  # type: ignore[attr-defined]


async def test_a_failing_mutation_field_undoes_only_itself(probe_app: GraphQLClient, runtime: Runtime) -> None:
    # When the second of three mutations fails unexpectedly
    response = await probe_app.execute(
        'mutation { a: remember(name: "a") b: remember(name: "b", fail: true) c: remember(name: "c") }'
    )
    # Then the client is told which one failed, and exactly the others are committed and published
    assert response.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert response.data == {"a": True, "b": None, "c": True}
    assert runtime.probe == ["a", "c"]  # type: ignore[attr-defined]


@strawberry.type
class _Deep:
    level: int

    @strawberry.field
    def next(self) -> _Deep:
        return _Deep(level=self.level + 1)


@strawberry.type
class _DeepQuery:
    @strawberry.field
    def deep(self) -> _Deep:
        return _Deep(level=0)


@pytest.mark.parametrize(("depth", "refused"), [(12, False), (13, True)])
async def test_queries_deeper_than_12_are_refused(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, depth: int, refused: bool
) -> None:
    # Given a schema with a relation that can nest forever (like child -> tasks -> child …)
    monkeypatch.setattr(graph.schema, "QUERIES", (*graph.schema.QUERIES, _DeepQuery))
    client = GraphQLClient(create_app(runtime=runtime))
    query = "{ deep " + "{ next " * (depth - 1) + "{ level }" + " }" * (depth - 1) + " }"
    # When a client nests `depth` levels
    response = await client.execute(query)
    # Then up to the limit it answers, and past it nothing runs
    assert (response.data is None) is refused
    if refused:
        assert "exceeds maximum operation depth of 12" in response.errors[0]["message"]
