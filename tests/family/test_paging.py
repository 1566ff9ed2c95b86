"""Paging a child's lists: keyset cursors both ways, totals that ignore the cursor, the end of a
list, and results' tasks fetched only when asked for (through fragments too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tally.clock import clock
from tests.conftest import Backend
from tests.family.conftest import Family, earn, gid, make_task
from tests.support.client import GraphQLClient
from tests.support.statements import count_statements

PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { node(id: $id) { ... on Child {
  tasks(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { question } } }
} } }"""


async def page(gql: GraphQLClient, family: Family, **arguments: Any) -> dict[str, Any]:
    variables = {"id": gid("Child", family.child.user.id), **arguments}
    return (await gql.execute(PAGE, variables, token=family.parent.token)).ok()["node"]["tasks"]


def questions(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["question"] for edge in connection["edges"]]


async def test_tasks_page_forwards_and_backwards_by_cursor(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given five tasks, T0 oldest
    for n in range(5):
        await make_task(session, smiths, question=f"T{n}")
        clock.advance(timedelta(seconds=1))
    # Forwards, two at a time, newest first
    first = await page(gql, smiths, first=2)
    assert questions(first) == ["T4", "T3"] and first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    second = await page(gql, smiths, first=2, after=first["pageInfo"]["endCursor"])
    assert questions(second) == ["T2", "T1"] and second["totalCount"] == 5
    third = await page(gql, smiths, first=2, after=second["pageInfo"]["endCursor"])
    assert questions(third) == ["T0"] and third["pageInfo"]["hasNextPage"] is False
    # Past the end: nothing, and still the total
    beyond = await page(gql, smiths, first=2, after=third["pageInfo"]["endCursor"])
    assert beyond["edges"] == [] and beyond["totalCount"] == 5
    # Backwards from the last page's start
    back = await page(gql, smiths, last=2, before=third["pageInfo"]["startCursor"])
    assert questions(back) == ["T2", "T1"] and back["pageInfo"]["hasPreviousPage"] is True
    # A forged cursor is the client's mistake
    response = await gql.execute(PAGE, {"id": gid("Child", smiths.child.user.id), "first": 2, "after": "nonsense"},
                                 token=smiths.parent.token)
    assert response.error_codes == ["BAD_USER_INPUT"]


RESULTS = """query($id: ID!) { node(id: $id) { ... on Child { taskResults(first: 5) { edges { node {
  correct %s } } } } } }"""
FRAGMENT = """fragment Asked on TaskResult { task { question } }"""


async def test_a_results_tasks_are_read_only_when_asked_for(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, backend: Backend
) -> None:
    await earn(session, smiths, 5)
    variables = {"id": gid("Child", smiths.child.user.id)}
    # (a first request, so the sign-in check is equally cached for all three)
    await gql.execute(RESULTS % "", variables, token=smiths.parent.token)
    counts = {}
    for name, selection, extra in (("plain", "", ""), ("direct", "task { question }", ""),
                                   ("fragment", "...Asked", FRAGMENT)):
        with count_statements(backend.engine) as log:
            response = await gql.execute(RESULTS % selection + extra, variables, token=smiths.parent.token)
        node = response.ok()["node"]["taskResults"]["edges"][0]["node"]
        assert node["correct"] is True
        if name != "plain":
            assert node["task"]["question"].startswith("Worth 5?")
        counts[name] = log.count
    assert counts["direct"] == counts["fragment"] == counts["plain"] + 1
