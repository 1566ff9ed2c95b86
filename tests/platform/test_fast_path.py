"""The execution fast path answers exactly as graphql-core does: byte for byte, errors included.

Two apps share one runtime (one database transaction, one Redis): one with the fast path
(the default), one with it off. Every request goes to both with the same request id, and the
status, content type and body bytes must match. The operations: every query of the client
contract, with good and bad variables and every kind of viewer, and random schema-valid
queries from hypothesis-graphql. Counters show which path ran, so a test cannot pass by the
fast path quietly never being taken.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, print_ast
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries
from sqlalchemy.ext.asyncio import AsyncSession

from graph.app import create_app
from graph.fastpath import FastExecutor, FastPathStats, fast_path_stats
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person
from tests.earnings.conftest import add_earning, add_goal, add_platform, set_profile
from tests.family.conftest import Family, earn, gid, make_family, make_gift, make_task
from tests.support.client import CONTRACT_DIR, GraphQLClient

_request_ids = itertools.count()


class Pair:
    """The same request to both apps; their answers must be the same bytes."""

    def __init__(self, runtime: Runtime) -> None:
        self.fast_app = create_app(runtime=runtime)
        general_settings = runtime.settings.model_copy(update={"fast_path": False})
        self.general_app = create_app(settings=general_settings, runtime=runtime)
        self.fast = GraphQLClient(self.fast_app, after_request=runtime.jobs.drain)
        self.general = GraphQLClient(self.general_app, after_request=runtime.jobs.drain)

    @property
    def stats(self) -> FastPathStats:
        return fast_path_stats(self.fast_app.state.graphql.schema)

    async def same(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        payload = {"query": query, "variables": variables or {}}
        headers = {"x-request-id": f"difftest{next(_request_ids)}"}
        fast = await self.fast.post(payload, token=token, headers=headers)
        general = await self.general.post(payload, token=token, headers=headers)
        assert (fast.status_code, fast.headers.get("content-type"), fast.content) == (
            general.status_code, general.headers.get("content-type"), general.content
        ), f"the paths differ for {query} {variables}"
        return fast.json()

    async def close(self) -> None:
        await self.fast.http.aclose()
        await self.general.http.aclose()


@pytest.fixture
async def pair(runtime: Runtime) -> Any:
    both = Pair(runtime)
    yield both
    await both.close()


class World:
    """A parent with two children (tasks answered right and wrong, gifts in every state), the
    parent's freelance earnings with platforms and a goal, and the notifications all that sent."""

    def __init__(self, family: Family, freelancer: Person, ids: dict[str, str]) -> None:
        self.family, self.freelancer, self.ids = family, freelancer, ids


@pytest.fixture
async def world(session: AsyncSession) -> World:
    family = await make_family(session, "pat@example.com", "ada", "bo")
    ada, bo = family.children
    await make_gift(session, family, 15, "Ice cream", child=ada)
    opened_later = await make_gift(session, family, 5000, "Bike", child=ada)
    for n in range(4):
        subject = None if n % 2 else "maths"
        await make_task(session, family, ada, reward=5 + n, question=f"Question {n}?", subject=subject)
    await earn(session, family, 20, child=ada)
    await make_task(session, family, bo, reward=3)
    profile_owner = family.parent
    await set_profile(session, profile_owner.user, plan="PRO", currency="USD")
    upwork = await add_platform(session, profile_owner.user, "Upwork", category="Marketplace")
    fiverr = await add_platform(session, profile_owner.user, "Fiverr", color="#00ff00")
    today = clock.now().date()
    for n in range(12):
        await add_earning(session, upwork if n % 3 else fiverr, today - timedelta(days=n * 9), 12_345 + n * 101,
                          currency="EUR" if n == 5 else "USD", hours_centi=None if n % 4 == 0 else 250 + n,
                          notes=None if n % 2 else f"Invoice #{n} \"quoted\" \u00e9")
    goal = await add_goal(session, profile_owner.user, 500_000, today - timedelta(days=30), today + timedelta(days=60))
    ids = {"child": gid("Child", ada.user.id), "gift": gid("Gift", opened_later.id),
           "platform": gid("Platform", upwork.id), "goal": gid("Goal", goal.id)}
    return World(family, profile_owner, ids)


def contract_queries() -> dict[str, str]:
    found = {}
    for path in sorted(CONTRACT_DIR.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.operation is OperationType.QUERY:
                assert definition.name is not None
                found[definition.name.value] = print_ast(definition)
    return found


def variable_cases(today: date, ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    year_ago = (today - timedelta(days=365)).isoformat()
    return {
        "Me": [{}],
        "NodeById": [{"id": value} for value in ids.values()] + [{"id": "not a global id"},
                                                               {"id": gid("Child", uuid.uuid4())}],
        "EarningsDashboard": [
            {"from": year_ago, "to": today.isoformat()},
            {"from": year_ago, "to": today.isoformat(), "currency": "EUR"},
            {"from": today.isoformat(), "to": year_ago},  # backwards: a client error
            {"from": "not a date", "to": today.isoformat()},
        ],
        "FamilyDashboard": [{}, {"childrenFirst": 1, "tasksFirst": 2}, {"childrenFirst": 10, "tasksFirst": 100},
                            {"childrenFirst": 101}, {"tasksFirst": -1}, {"childrenFirst": "two"}],
        "ChildHome": [{}, {"tasksFirst": 1}, {"tasksFirst": 0}],
        "Notifications": [{}, {"first": 1}, {"first": 2, "unreadOnly": True}, {"after": "bogus"}],
    }


async def test_every_contract_query_answers_the_same_on_both_paths(pair: Pair, world: World) -> None:
    found = contract_queries()
    cases = variable_cases(clock.now().date(), world.ids)
    assert set(cases) == set(found), "a contract query has no variable cases here"
    viewers = [world.family.parent.token, world.family.children[0].token, None]
    for name, query in found.items():
        for variables, token in itertools.product(cases[name], viewers):
            await pair.same(query, variables, token)
    stats = pair.stats
    # The dashboards took the fast path; client errors fell back; node(id:) (an interface) is general.
    assert stats.fast >= 20 and stats.fallback >= 5 and stats.general >= 1, stats


async def test_the_family_dashboard_runs_compiled_and_a_bad_argument_falls_back(pair: Pair, world: World) -> None:
    query = contract_queries()["FamilyDashboard"]
    parent = world.family.parent.token
    body = await pair.same(query, {"childrenFirst": 5, "tasksFirst": 3}, parent)
    children = body["data"]["me"]["children"]["edges"]
    assert [c["node"]["name"] for c in children] == ["Ada", "Bo"]
    assert children[0]["node"]["points"] == 20 and children[0]["node"]["gifts"]["edges"]
    assert (pair.stats.fast, pair.stats.fallback) == (1, 0)

    body = await pair.same(query, {"tasksFirst": -1}, parent)
    assert body["errors"][0]["path"] == ["me", "children", "edges", 0, "node", "tasks"]
    assert (pair.stats.fast, pair.stats.fallback) == (1, 1)


async def test_aliases_fragments_and_typename_run_compiled(pair: Pair, world: World) -> None:
    query = """
        query Shapes($n: Int) {
          viewer: me { __typename ...Who kids: children(first: $n) { edges { cursor node { ...Kid } } } }
          again: me { id }
        }
        fragment Who on User { id name role }
        fragment Kid on Child { id name points __typename first: tasks(first: 1) { totalCount } }
    """
    body = await pair.same(query, {"n": 2}, world.family.parent.token)
    assert body["data"]["viewer"]["kids"]["edges"][0]["node"]["__typename"] == "Child"
    assert pair.stats.fast == 1


async def test_directives_and_introspection_stay_with_graphql_core(pair: Pair, world: World) -> None:
    token = world.family.parent.token
    await pair.same("query($s: Boolean!) { me { id name @skip(if: $s) } }", {"s": True}, token)
    await pair.same("{ __schema { queryType { name } } }", None, token)
    assert (pair.stats.fast, pair.stats.general) == (0, 2)


async def test_the_fast_path_can_be_turned_off(runtime: Runtime, world: World) -> None:
    app = create_app(settings=runtime.settings.model_copy(update={"fast_path": False}), runtime=runtime)
    client = GraphQLClient(app)
    try:
        assert (await client.execute("{ me { id } }", token=world.family.parent.token)).ok()["me"]["id"]
    finally:
        await client.http.aclose()
    assert app.state.graphql.schema.execution_context_class is not FastExecutor
    assert fast_path_stats(app.state.graphql.schema) == FastPathStats()


def _custom_scalars() -> dict[str, st.SearchStrategy[Any]]:
    day = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)).map(lambda d: nodes.String(d.isoformat()))
    return {
        "Date": day,
        "DateTime": st.datetimes(min_value=datetime(2020, 1, 1)).map(lambda d: nodes.String(d.isoformat() + "Z")),
        "Decimal": st.decimals(min_value=-1000, max_value=1000, places=2).map(lambda d: nodes.String(str(d))),
        "Time": st.times().map(lambda t: nodes.String(t.isoformat(timespec="minutes"))),
    }


def generated_queries(count: int) -> list[str]:
    """Schema-valid queries under `me`, drawn reproducibly (derandomized) before the async test runs."""
    schema = (CONTRACT_DIR.parent.parent / "schema.graphql").read_text()
    drawn: list[str] = []

    @settings(max_examples=count, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(queries(schema, fields=["me"], custom_scalars=_custom_scalars(), allow_null=False))
    def draw(query: str) -> None:
        drawn.append(query)

    draw()
    return drawn


async def test_random_schema_valid_queries_answer_the_same_on_both_paths(pair: Pair, world: World) -> None:
    generated = generated_queries(120)
    for query in generated:
        for token in (world.family.parent.token, world.family.children[0].token):
            await pair.same(query, None, token)
    # Most drawn queries are eligible; many carry random arguments that are client errors.
    assert pair.stats.fast >= len(generated) // 4, pair.stats


async def test_a_nested_client_error_leaves_the_request_transaction_usable(pair: Pair, world: World) -> None:
    # graphql-core cancels the siblings of a field whose error nulls its non-null parents; a
    # dataloader batch cut off mid-statement used to close the connection (INTERNAL_SERVER_ERROR
    # and a lost transaction). The batch now finishes; only the field's own error is reported.
    query = contract_queries()["FamilyDashboard"]
    token = world.family.parent.token
    for client in (pair.general, pair.fast):
        refused = await client.execute(query, {"tasksFirst": -1}, token=token)
        assert refused.status == 200 and refused.data == {"me": None}
        assert set(refused.error_codes) == {"BAD_USER_INPUT"}
        fine = await client.execute(query, {"tasksFirst": 2}, token=token)
        assert len(fine.ok()["me"]["children"]["edges"]) == 2


def test_graphql_core_settles_siblings_instead_of_cancelling_them() -> None:
    import graphql.execution.executor as graphql_executor

    from graph.schema import build_schema
    from graph.settle import gather_settled

    build_schema()
    assert graphql_executor.gather_with_cancel is gather_settled


async def test_metrics_count_how_operations_ran(pair: Pair, world: World) -> None:
    await pair.same("{ me { id name } }", None, world.family.parent.token)
    await pair.same("{ __schema { queryType { name } } }", None, world.family.parent.token)
    metrics = (await pair.fast.http.get("/metrics")).text
    counted = {line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
               for line in metrics.splitlines() if line.startswith("tally_graphql_fast_path_total{")}
    assert counted['outcome="fast"'] >= 1 and counted['outcome="general"'] >= 1
