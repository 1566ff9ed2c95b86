"""Platforms and plans: create, rename, recolour, archive; FREE allows 3 active ones; settings."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import EarningsProfile, Platform
from graph.app import create_app
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person
from tests.earnings.conftest import (
    add_earning,
    add_platform,
    codes,
    count,
    create_platform,
    gid,
    record,
    set_profile,
)
from tests.support.client import GraphQLClient
from tests.support.live import committed_person

UPDATE = """
mutation($input: UpdatePlatformInput!) {
  updatePlatform(input: $input) { platform { id name category color archived } errors { field code message } }
}
"""
ARCHIVE = """
mutation($input: ArchivePlatformInput!) {
  archivePlatform(input: $input) { platform { id name archived archivedAt } errors { field code message } }
}
"""
PLATFORMS = """
query($includeArchived: Boolean!) {
  me { platforms(includeArchived: $includeArchived) { totalCount edges { node { name archived } } } }
}
"""
SETTINGS = """
mutation($input: UpdateEarningsSettingsInput!) {
  updateEarningsSettings(input: $input) {
    settings { plan defaultCurrency timezone platformLimit } errors { field code message }
  }
}
"""
SET_PLAN = """
mutation($input: SetEarningsPlanInput!) {
  setEarningsPlan(input: $input) { userId settings { plan platformLimit } errors { field code message } }
}
"""


async def names(gql: GraphQLClient, person: Person, include_archived: bool = False) -> list[str]:
    data = (await gql.execute(PLATFORMS, {"includeArchived": include_archived}, token=person.token)).ok()
    return [edge["node"]["name"] for edge in data["me"]["platforms"]["edges"]]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "  "}, [("name", "INVALID")]),
        ({"name": "x" * 61}, [("name", "INVALID")]),
        ({"color": "red"}, [("color", "INVALID")]),
        ({"color": "#12345"}, [("color", "INVALID")]),
        ({"category": "c" * 61}, [("category", "INVALID")]),
        ({"name": "", "color": "blue"}, [("name", "INVALID"), ("color", "INVALID")]),
    ],
)
async def test_a_bad_platform_is_refused_naming_its_field(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], expected: list[Any]
) -> None:
    payload = await create_platform(gql, fran, **fields)
    assert payload["platform"] is None and codes(payload) == expected
    assert await count(session, Platform) == 0


async def test_the_free_plan_allows_three_active_platforms(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Given three platforms on the FREE plan (new users start there)
    for name in ("A", "B", "C"):
        assert (await create_platform(gql, fran, name=name))["errors"] == []
    # When Fran adds a fourth
    fourth = await create_platform(gql, fran, name="D")
    # Then it is refused with PLAN_LIMIT, and nothing is added
    assert codes(fourth) == [(None, "PLAN_LIMIT")]
    assert await count(session, Platform) == 3
    # And once she archives one, there is room again; the archived one is still listed on request
    archived = await gql.execute(ARCHIVE, {"input": {"id": gid("Platform", (await session.scalar(
        select(Platform.id).where(Platform.name == "A")))) }}, token=fran.token)
    assert archived.ok()["archivePlatform"]["platform"]["archived"] is True
    assert (await create_platform(gql, fran, name="D"))["errors"] == []
    assert await names(gql, fran) == ["B", "C", "D"]
    assert await names(gql, fran, include_archived=True) == ["A", "B", "C", "D"]


@pytest.mark.parametrize("plan", ["PRO", "BUSINESS"])
async def test_paid_plans_have_no_platform_limit(
    gql: GraphQLClient, session: AsyncSession, fran: Person, plan: str
) -> None:
    await set_profile(session, fran.user, plan=plan)
    for n in range(5):
        assert (await create_platform(gql, fran, name=f"P{n}"))["errors"] == []
    assert await count(session, Platform) == 5


async def test_names_are_unique_among_active_platforms_whatever_the_case(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given Fran's active Upwork and archived Fiverr, and Otto's Toptal
    await add_platform(session, fran.user, "Upwork")
    await add_platform(session, fran.user, "Fiverr", archived=True)
    await add_platform(session, otto.user, "Toptal")
    # Then another "UPWORK" is refused, while Fiverr (archived) and Toptal (Otto's) are free
    assert codes(await create_platform(gql, fran, name="UPWORK")) == [("name", "NAME_TAKEN")]
    assert (await create_platform(gql, fran, name="fiverr"))["errors"] == []
    assert (await create_platform(gql, fran, name="Toptal"))["errors"] == []


async def test_rename_and_recolour(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given Upwork and Fiverr
    upwork = await add_platform(session, fran.user, "Upwork", category="Marketplace")
    await add_platform(session, fran.user, "Fiverr")
    pid = gid("Platform", upwork.id)
    # When Fran recolours Upwork, leaving the name alone
    recoloured = (await gql.execute(UPDATE, {"input": {"id": pid, "color": "#ABCDEF"}}, token=fran.token)).ok()
    # Then only the colour changes
    assert recoloured["updatePlatform"] == {"platform": {
        "id": pid, "name": "Upwork", "category": "Marketplace", "color": "#abcdef", "archived": False,
    }, "errors": []}
    # And renaming it to Fiverr's name is refused, to a new name kept, and an empty category clears it
    taken = (await gql.execute(UPDATE, {"input": {"id": pid, "name": "fiverr"}}, token=fran.token)).ok()
    assert codes(taken["updatePlatform"]) == [("name", "NAME_TAKEN")]
    renamed = (await gql.execute(UPDATE, {"input": {"id": pid, "name": "Upwork Pro", "category": ""}},
                                 token=fran.token)).ok()["updatePlatform"]["platform"]
    assert (renamed["name"], renamed["category"]) == ("Upwork Pro", None)
    # And keeping its own name in another case is fine
    same = (await gql.execute(UPDATE, {"input": {"id": pid, "name": "UPWORK PRO"}}, token=fran.token)).ok()
    assert same["updatePlatform"]["errors"] == []


async def test_someone_elses_platform_cannot_be_changed_or_archived(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    ottos = await add_platform(session, otto.user, "Upwork")
    pid = gid("Platform", ottos.id)
    renamed = (await gql.execute(UPDATE, {"input": {"id": pid, "name": "Mine"}}, token=fran.token)).ok()
    archived = (await gql.execute(ARCHIVE, {"input": {"id": pid}}, token=fran.token)).ok()
    assert codes(renamed["updatePlatform"]) == codes(archived["archivePlatform"]) == [("id", "NOT_FOUND")]
    row = await session.scalar(select(Platform).where(Platform.id == ottos.id).execution_options(
        populate_existing=True))
    assert row is not None and (row.name, row.archived_at) == ("Upwork", None)


async def test_an_archived_platform_keeps_its_history(gql: GraphQLClient, session: AsyncSession,
                                                      fran: Person) -> None:
    # Given an earning on Upwork
    upwork = await add_platform(session, fran.user, "Upwork")
    today = clock.now().date()
    await add_earning(session, upwork, today, 12_345)
    # When Fran archives Upwork, twice
    first = (await gql.execute(ARCHIVE, {"input": {"id": gid("Platform", upwork.id)}}, token=fran.token)).ok()
    clock.advance(timedelta(minutes=1))
    second = (await gql.execute(ARCHIVE, {"input": {"id": gid("Platform", upwork.id)}}, token=fran.token)).ok()
    # Then the first archive time stands
    assert first["archivePlatform"]["platform"]["archivedAt"] == second["archivePlatform"]["platform"]["archivedAt"]
    # And the earning is still listed and summed, with its platform
    variables = {"from": today.isoformat(), "to": today.isoformat()}
    me = (await gql.contract("earnings", "EarningsDashboard", variables, token=fran.token)).ok()["me"]
    assert me["earnings"]["edges"][0]["node"]["platform"]["name"] == "Upwork"
    assert me["earningsSummary"]["byPlatform"][0]["platform"]["name"] == "Upwork"
    assert me["earningsSummary"]["total"]["amount"] == "123.45"


async def test_settings_default_then_change(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given a new user: FREE, USD, UTC, without a settings row yet
    query = "{ me { earningsSettings { plan defaultCurrency timezone platformLimit } } }"
    data = (await gql.execute(query, token=fran.token)).ok()
    assert data["me"]["earningsSettings"] == {
        "plan": "FREE", "defaultCurrency": "USD", "timezone": "UTC", "platformLimit": 3,
    }
    assert await count(session, EarningsProfile) == 0
    # When Fran sets her currency and timezone
    variables = {"input": {"defaultCurrency": "eur", "timezone": "Europe/Paris"}}
    changed = (await gql.execute(SETTINGS, variables, token=fran.token)).ok()["updateEarningsSettings"]
    # Then both change, and an earning without a currency is in EUR
    assert changed == {"settings": {"plan": "FREE", "defaultCurrency": "EUR", "timezone": "Europe/Paris",
                                    "platformLimit": 3}, "errors": []}
    platform = await add_platform(session, fran.user)
    assert (await record(gql, fran, platform))["earning"]["amount"]["currency"] == "EUR"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"defaultCurrency": "EURO"}, [("defaultCurrency", "INVALID")]),
        ({"timezone": "Mars/Olympus"}, [("timezone", "INVALID")]),
        ({"timezone": "localtime"}, [("timezone", "INVALID")]),
        ({"defaultCurrency": "", "timezone": ""}, [("defaultCurrency", "INVALID"), ("timezone", "INVALID")]),
    ],
)
async def test_bad_settings_are_refused(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], expected: list[Any]
) -> None:
    payload = (await gql.execute(SETTINGS, {"input": fields}, token=fran.token)).ok()["updateEarningsSettings"]
    assert payload["settings"] is None and codes(payload) == expected
    assert await count(session, EarningsProfile) == 0


async def test_staff_move_a_user_to_another_plan(
    gql: GraphQLClient, session: AsyncSession, fran: Person, people: dict[str, Person]
) -> None:
    # Given Fran at her FREE limit
    for name in ("A", "B", "C"):
        await add_platform(session, fran.user, name)
    # When an admin moves her to PRO
    variables = {"input": {"userId": gid("User", fran.user.id), "plan": "PRO"}}
    payload = (await gql.execute(SET_PLAN, variables, token=people["admin"].token)).ok()["setEarningsPlan"]
    # Then she has no limit any more
    assert payload == {"userId": gid("User", fran.user.id), "settings": {"plan": "PRO", "platformLimit": None},
                       "errors": []}
    assert (await create_platform(gql, fran, name="D"))["errors"] == []
    # And moving back to FREE archives nothing, but blocks a fifth until she is under the limit
    variables["input"]["plan"] = "FREE"
    await gql.execute(SET_PLAN, variables, token=people["admin"].token)
    assert codes(await create_platform(gql, fran, name="E")) == [(None, "PLAN_LIMIT")]
    assert await names(gql, fran) == ["A", "B", "C", "D"]


@pytest.mark.parametrize("target", ["missing", "child", "malformed"])
async def test_a_plan_is_set_on_an_adults_account_only(
    gql: GraphQLClient, session: AsyncSession, people: dict[str, Person], target: str
) -> None:
    user_id = {
        "missing": gid("User", "00000000-0000-0000-0000-000000000000"),
        "child": gid("User", people["child"].user.id),
        "malformed": gid("Platform", people["member"].user.id),
    }[target]
    variables = {"input": {"userId": user_id, "plan": "PRO"}}
    payload = (await gql.execute(SET_PLAN, variables, token=people["admin"].token)).ok()["setEarningsPlan"]
    expected = [("userId", "INVALID")] if target == "child" else [("userId", "NOT_FOUND")]
    assert codes(payload) == expected
    assert await count(session, EarningsProfile) == 0


async def _create_many(runtime: Runtime, person: Person, names: list[str]) -> list[dict[str, Any]]:
    gql = GraphQLClient(create_app(runtime=runtime))
    try:
        return await asyncio.gather(*(create_platform(gql, person, name=name) for name in names))
    finally:
        await gql.aclose()


@pytest.mark.postgres
async def test_concurrent_creates_do_not_pass_the_plan_limit(committed_runtime: Runtime) -> None:
    # Given a FREE user with one platform
    fran = await committed_person(committed_runtime, email="fran@example.com")
    assert (await _create_many(committed_runtime, fran, ["First"]))[0]["errors"] == []
    # When eight creates arrive at once
    results = await _create_many(committed_runtime, fran, [f"P{n}" for n in range(8)])
    # Then exactly two get in, the others are told PLAN_LIMIT, and three platforms exist
    outcomes = Counter(tuple(codes(result)) for result in results)
    assert outcomes == Counter({(): 2, ((None, "PLAN_LIMIT"),): 6})
    async with committed_runtime.database.sessions() as session:
        assert await count(session, Platform) == 3


@pytest.mark.postgres
async def test_concurrent_creates_of_one_name_make_one_platform(committed_runtime: Runtime) -> None:
    # Given a user whose settings row exists (so the creates do not queue on inserting it)
    fran = await committed_person(committed_runtime, email="fran@example.com")
    assert (await _create_many(committed_runtime, fran, ["Fiverr"]))[0]["errors"] == []
    # When six creates of one name arrive at once, then one gets in
    results = await _create_many(committed_runtime, fran, ["Upwork"] * 6)
    outcomes = Counter(tuple(codes(result)) for result in results)
    assert outcomes == Counter({(): 1, (("name", "NAME_TAKEN"),): 5})
