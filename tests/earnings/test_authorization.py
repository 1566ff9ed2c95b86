"""Every earnings field and mutation, asked by everyone: anonymous, a child, the owner, another
member, an admin. Another user's objects read exactly like missing ones, and nobody but the
owner changes the owner's earnings.

ok: the operation ran and did what was asked; NOT_FOUND: it ran and answered that code in its
payload; self: the viewer's own data; null: a field that answers null; UNAUTHENTICATED /
FORBIDDEN: a top-level error and a null field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning, EarningsProfile, Goal, Platform
from graph.earnings.mutations import EarningsMutation
from graph.earnings.subscriptions import EarningsSubscription
from graph.earnings.viewer import EarningsViewerFields
from graph.schema import build_schema
from tally.clock import clock
from tests.accounts.conftest import Person
from tests.earnings.conftest import add_earning, add_goal, add_platform, gid
from tests.support.client import GraphQLClient, contract_operation

VIEWERS = ["anonymous", "child", "member", "other", "admin"]
OK, NOT_FOUND, SELF, NULL = "ok", "NOT_FOUND", "self", "null"
UNAUTHENTICATED, FORBIDDEN = "UNAUTHENTICATED", "FORBIDDEN"

# The owner's own objects: only the owner reaches them; everyone else finds nothing.
OWNED = {"anonymous": UNAUTHENTICATED, "child": FORBIDDEN, "member": OK, "other": NOT_FOUND, "admin": NOT_FOUND}
# Creating one's own: every adult may.
CREATE = {"anonymous": UNAUTHENTICATED, "child": FORBIDDEN, "member": OK, "other": OK, "admin": OK}
# A field on `me`: signed-out viewers have no `me`; children may not use earnings.
ME_FIELD = {"anonymous": NULL, "child": FORBIDDEN, "member": SELF, "other": SELF, "admin": SELF}
# node(id:) of the owner's object.
NODE = {"anonymous": NULL, "child": NULL, "member": SELF, "other": NULL, "admin": NULL}


@dataclass
class World:
    platform: Platform
    earning: Earning
    goal: Goal


@pytest.fixture
async def world(session: AsyncSession, people: dict[str, Person]) -> World:
    owner = people["member"].user
    platform = await add_platform(session, owner, "Upwork")
    d = clock.now().date()
    earning = await add_earning(session, platform, d, 10_000)
    goal = await add_goal(session, owner, 1_000_000, d, d + timedelta(days=30))
    return World(platform, earning, goal)


def _me(selection: str) -> str:
    return "query { me { " + selection + " } }"


def variables_for(world: World, name: str) -> dict[str, Any] | None:
    today = clock.now().date().isoformat()
    platform_id, earning_id = gid("Platform", world.platform.id), gid("Earning", world.earning.id)
    return {
        "createPlatform": {"input": {"name": "Fiverr"}},
        "updatePlatform": {"input": {"id": platform_id, "name": "Renamed"}},
        "archivePlatform": {"input": {"id": platform_id}},
        "recordEarning": {"input": {"platformId": platform_id, "date": today, "amount": "5"}},
        "updateEarning": {"input": {"id": earning_id, "amount": "7"}},
        "deleteEarning": {"input": {"id": earning_id}},
        "createGoal": {"input": {"title": "Goal", "targetAmount": "10", "deadline": today}},
        "updateEarningsSettings": {"input": {"timezone": "Europe/Paris"}},
        "setEarningsPlan": {"input": {"userId": "{owner}", "plan": "PRO"}},
        "nodePlatform": {"id": platform_id},
        "nodeEarning": {"id": earning_id},
        "nodeGoal": {"id": gid("Goal", world.goal.id)},
        "earningsSummary": {"from": today, "to": today},
    }.get(name)


def _mutation(field: str, input_type: str, selection: str = "errors { code }") -> str:
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"


# name, root field, document, expectation per viewer. "recordEarning" by another member targets
# the owner's platform, so it finds nothing; an admin changing plans is the only staff power.
MATRIX: list[tuple[str, str, str, dict[str, str]]] = [
    ("createPlatform", "createPlatform", contract_operation("earnings", "CreatePlatform"), CREATE),
    ("updatePlatform", "updatePlatform", _mutation("updatePlatform", "UpdatePlatformInput"), OWNED),
    ("archivePlatform", "archivePlatform", _mutation("archivePlatform", "ArchivePlatformInput"), OWNED),
    ("recordEarning", "recordEarning", contract_operation("earnings", "RecordEarning"), OWNED),
    ("updateEarning", "updateEarning", contract_operation("earnings", "UpdateEarning"), OWNED),
    ("deleteEarning", "deleteEarning", contract_operation("earnings", "DeleteEarning"), OWNED),
    ("createGoal", "createGoal", contract_operation("earnings", "CreateGoal"), CREATE),
    ("updateEarningsSettings", "updateEarningsSettings",
     _mutation("updateEarningsSettings", "UpdateEarningsSettingsInput"), CREATE),
    ("setEarningsPlan", "setEarningsPlan", _mutation("setEarningsPlan", "SetEarningsPlanInput"),
     {"anonymous": UNAUTHENTICATED, "child": FORBIDDEN, "member": FORBIDDEN, "other": FORBIDDEN, "admin": OK}),
    ("earningsSettings", "earningsSettings", _me("earningsSettings { plan }"), ME_FIELD),
    ("platforms", "platforms", _me("platforms { totalCount edges { node { id } } }"), ME_FIELD),
    ("earnings", "earnings", _me("earnings { totalCount edges { node { id } } }"), ME_FIELD),
    ("goals", "goals", _me("goals { totalCount edges { node { id } } }"), ME_FIELD),
    ("earningsSummary", "earningsSummary",
     "query($from: Date!, $to: Date!) { me { earningsSummary(from: $from, to: $to) { count } } }", ME_FIELD),
    ("earningCurrencies", "earningCurrencies", _me("earningCurrencies"), ME_FIELD),
    ("nodePlatform", "node", "query($id: ID!) { node(id: $id) { id } }", NODE),
    ("nodeEarning", "node", "query($id: ID!) { node(id: $id) { id } }", NODE),
    ("nodeGoal", "node", "query($id: ID!) { node(id: $id) { id } }", NODE),
]

CASES = [
    pytest.param(name, field, document, viewer, expected[viewer], id=f"{name}-{viewer}")
    for name, field, document, expected in MATRIX
    for viewer in VIEWERS
]


def test_the_matrix_covers_every_earnings_field() -> None:
    # Every root mutation and subscription of earnings, and every field it adds to `me`; the
    # subscription's matrix runs over a websocket (test_live.py and below).
    schema = build_schema()
    converter = schema.config.name_converter
    names = {
        converter.get_graphql_name(field)
        for root in (EarningsMutation, EarningsViewerFields)
        for field in root.__strawberry_definition__.fields
    }
    assert {name for name, field, _, _ in MATRIX if field != "node"} == names
    assert [converter.get_graphql_name(f) for f in EarningsSubscription.__strawberry_definition__.fields] == [
        "earningsUpdated"]


async def owner_state(session: AsyncSession, world: World) -> tuple[Any, ...]:
    def fresh(model: type, row_id: Any) -> Any:
        return select(model).where(model.id == row_id).execution_options(populate_existing=True)

    platform = await session.scalar(fresh(Platform, world.platform.id))
    earning = await session.scalar(fresh(Earning, world.earning.id))
    goal = await session.scalar(fresh(Goal, world.goal.id))
    profile = await session.scalar(select(EarningsProfile).where(
        EarningsProfile.user_id == world.platform.user_id).execution_options(populate_existing=True))
    count = len((await session.scalars(select(Earning.id).where(Earning.user_id == world.platform.user_id))).all())
    return (
        (platform.name, platform.archived_at) if platform else None,
        (earning.amount_minor,) if earning else None,
        (goal.status,) if goal else None,
        (profile.plan, profile.timezone) if profile else None,
        count,
    )


@pytest.mark.parametrize(("name", "field", "document", "viewer", "expected"), CASES)
async def test_authorization(
    gql: GraphQLClient, session: AsyncSession, people: dict[str, Person], world: World,
    name: str, field: str, document: str, viewer: str, expected: str,
) -> None:
    # Given the viewer's token (none when anonymous) and the owner's platform, earning and goal
    person = people.get(viewer)
    token = person.token if person else None
    owner = people["member"]
    variables = variables_for(world, name)
    if name == "setEarningsPlan":
        variables = {"input": {"userId": gid("User", owner.user.id), "plan": "PRO"}}
    before = await owner_state(session, world)
    # When they send it
    response = await gql.execute(document, variables, token=token)
    # Then they get what the matrix says
    data = response.data or {}
    value = (data.get("me") or {}).get(field) if field in {f for _, f, _, e in MATRIX if e is ME_FIELD} else (
        data.get(field))
    if expected in (UNAUTHENTICATED, FORBIDDEN):
        assert response.error_codes == [expected]
        assert value is None
    else:
        assert response.errors == []
        if expected == NULL:
            assert value is None
        elif expected == SELF:
            assert value is not None
            if field == "node":
                assert value["id"] == variables["id"]
            elif field in ("platforms", "earnings", "goals"):
                # Each member sees only their own: the owner has one of each, the others none
                assert value["totalCount"] == (1 if viewer == "member" else 0)
        elif expected == NOT_FOUND:
            assert [error["code"] for error in value["errors"]] == ["NOT_FOUND"]
        else:
            assert value["errors"] == []
    # And nobody but the owner (and the admin changing plans) changed the owner's earnings
    after = await owner_state(session, world)
    if (viewer != "member" and name != "setEarningsPlan") or expected in (UNAUTHENTICATED, FORBIDDEN):
        assert after == before


async def test_staff_see_nothing_of_a_members_earnings(
    gql: GraphQLClient, session: AsyncSession, people: dict[str, Person], world: World
) -> None:
    # An admin asking for a member's earning by id gets what a missing id gets
    query = "query($id: ID!) { node(id: $id) { id } }"
    admin = people["admin"].token
    theirs = await gql.execute(query, {"id": gid("Earning", world.earning.id)}, token=admin)
    missing = await gql.execute(query, {"id": gid("Earning", "00000000-0000-0000-0000-000000000000")}, token=admin)
    assert theirs.body == missing.body == {"data": {"node": None}}
