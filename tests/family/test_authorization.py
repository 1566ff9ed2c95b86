"""Every family field and mutation, asked by everyone: anonymous, the family's child, another
family's child, the parent, another parent, an admin. Another family's objects answer exactly
like missing ones; refused mutations change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from db.models.family import FamilyChild, FamilyEntitlement, FamilyGift, FamilyTask, FamilyTaskAttempt
from db.models.ledger import JournalEntry
from domain.actor import Role
from graph.family.mutations import FamilyMutation
from graph.family.subscriptions import FamilySubscription
from graph.family.viewer import FamilyViewerFields
from graph.schema import build_schema
from tests.accounts.conftest import Person, make_person
from tests.family.conftest import (
    CHILD_PASSWORD,
    Family,
    answer_of,
    earn,
    gid,
    make_family,
    make_gift,
    make_task,
)
from tests.support.client import GraphQLClient

VIEWERS = ["anonymous", "child", "other_child", "parent", "other", "admin"]
# Expectations: a top-level error code, OK (the payload's errors are empty), NOT_FOUND (the
# payload's only error), SEEN (the object is there), NULL (the field answers null), EMPTY.
UNAUTHENTICATED, FORBIDDEN, OK, NOT_FOUND, SEEN, NULL, EMPTY = (
    "UNAUTHENTICATED", "FORBIDDEN", "OK", "NOT_FOUND", "SEEN", "NULL", "EMPTY",
)
PARENTS_ONLY = {"anonymous": UNAUTHENTICATED, "child": FORBIDDEN, "other_child": FORBIDDEN, "parent": OK,
                "other": NOT_FOUND, "admin": NOT_FOUND}
CHILD_ONLY = {"anonymous": UNAUTHENTICATED, "child": OK, "other_child": NOT_FOUND, "parent": FORBIDDEN,
              "other": FORBIDDEN, "admin": FORBIDDEN}
FAMILY_SEES = {"anonymous": NULL, "child": SEEN, "other_child": NULL, "parent": SEEN, "other": NULL, "admin": NULL}
PARENT_SEES = FAMILY_SEES | {"child": NULL}


@dataclass
class World:
    smiths: Family
    joneses: Family
    admin: Person
    ids: dict[str, str]
    answer_id: str

    def token(self, viewer: str) -> str | None:
        return {
            "anonymous": None, "child": self.smiths.child.token, "other_child": self.joneses.child.token,
            "parent": self.smiths.parent.token, "other": self.joneses.parent.token, "admin": self.admin.token,
        }[viewer]


@pytest.fixture
async def world(session: AsyncSession) -> World:
    smiths = await make_family(session, "pat@example.com", "kit")
    joneses = await make_family(session, "jo@example.com", "max")
    admin = await make_person(session, email="admin@example.com", name="Ann Admin", role=Role.ADMIN)
    done = await earn(session, smiths, 20)
    unlocked = await make_gift(session, smiths, 10, "Unlocked")
    hidden = await make_gift(session, smiths, 1000, "Hidden")
    pending = await make_task(session, smiths, question="Pending")
    attempt = await session.scalar(select(FamilyTaskAttempt).where(FamilyTaskAttempt.task_id == done.id))
    account = (await session.get(FamilyChild, smiths.child.user.id)).points_account_id  # type: ignore[union-attr]
    right = await answer_of(session, pending, True)
    return World(
        smiths=smiths, joneses=joneses, admin=admin, answer_id=gid("TaskAnswer", right.id),
        ids={
            "child": gid("Child", smiths.child.user.id), "task": gid("Task", pending.id),
            "answer": gid("TaskAnswer", right.id), "result": gid("TaskResult", attempt.id),  # type: ignore[union-attr]
            "unlocked": gid("Gift", unlocked.id), "hidden": gid("Gift", hidden.id),
            "posting": gid("PointsTransaction", f"{account}:1"),
        },
    )


MUTATIONS: list[tuple[str, str, Any]] = [
    ("mutation($i: AddChildInput!) { addChild(input: $i) { child { id } errors { code } } }", "addChild",
     lambda w: {"name": "New", "username": "newkid", "password": CHILD_PASSWORD}),
    ("mutation($i: UpdateChildInput!) { updateChild(input: $i) { child { id } errors { code } } }", "updateChild",
     lambda w: {"childId": w.ids["child"], "name": "Renamed"}),
    ("mutation($i: RemoveChildInput!) { removeChild(input: $i) { removedChildId errors { code } } }", "removeChild",
     lambda w: {"childId": w.ids["child"]}),
    ("mutation($i: ResetChildPasswordInput!) { resetChildPassword(input: $i) { child { id } errors { code } } }",
     "resetChildPassword", lambda w: {"childId": w.ids["child"], "newPassword": "a brand new secret"}),
    ("mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }", "createTask",
     lambda w: {"childId": w.ids["child"], "question": "Q?", "pointsReward": 5,
                "answers": [{"text": "a", "correct": True}, {"text": "b", "correct": False}]}),
    ("mutation($i: SendGiftInput!) { sendGift(input: $i) { gift { id } errors { code } } }", "sendGift",
     lambda w: {"childId": w.ids["child"], "title": "T", "pointsThreshold": 5}),
    ("mutation($i: OpenTaskInput!) { openTask(input: $i) { task { id } errors { code } } }", "openTask",
     lambda w: {"taskId": w.ids["task"]}),
    ("mutation($i: SubmitTaskAnswerInput!) { submitTaskAnswer(input: $i) { task { id } errors { code } } }",
     "submitTaskAnswer", lambda w: {"taskId": w.ids["task"], "answerId": w.answer_id}),
    ("mutation($i: ActivateGiftInput!) { activateGift(input: $i) { gift { id } errors { code } } }", "activateGift",
     lambda w: {"giftId": w.ids["unlocked"]}),
]
EXPECTED_MUTATIONS = {
    "addChild": {"anonymous": UNAUTHENTICATED, "child": FORBIDDEN, "other_child": FORBIDDEN, "parent": OK,
                 "other": OK, "admin": OK},
    "updateChild": PARENTS_ONLY, "removeChild": PARENTS_ONLY, "resetChildPassword": PARENTS_ONLY,
    "createTask": PARENTS_ONLY, "sendGift": PARENTS_ONLY,
    "openTask": CHILD_ONLY, "submitTaskAnswer": CHILD_ONLY, "activateGift": CHILD_ONLY,
}

NODE = "query($id: ID!) { node(id: $id) { id } }"
QUERIES: dict[str, dict[str, str]] = {
    "Child": FAMILY_SEES, "Task": FAMILY_SEES, "TaskAnswer": FAMILY_SEES, "TaskResult": FAMILY_SEES,
    "PointsTransaction": FAMILY_SEES, "Gift(unlocked)": FAMILY_SEES, "Gift(hidden)": PARENT_SEES,
}
NODE_KEYS = {"Child": "child", "Task": "task", "TaskAnswer": "answer", "TaskResult": "result",
             "PointsTransaction": "posting", "Gift(unlocked)": "unlocked", "Gift(hidden)": "hidden"}


async def snapshot(session: AsyncSession, world: World) -> tuple[Any, ...]:
    """Everything a refused mutation could have touched."""
    counts = [await session.scalar(select(func.count()).select_from(model)) for model in
              (User, FamilyChild, FamilyTask, FamilyTaskAttempt, FamilyGift, FamilyEntitlement, JournalEntry)]
    child = (await session.execute(
        select(User.name, User.password_hash).where(User.id == world.smiths.child.user.id)
    )).one()
    opened = await session.scalar(select(func.count()).where(FamilyTask.opened_at.is_not(None)))
    statuses = sorted((await session.scalars(select(FamilyGift.status))).all())
    return (*counts, tuple(child), opened, tuple(statuses))


@pytest.mark.parametrize(("document", "field", "variables"), MUTATIONS, ids=[m[1] for m in MUTATIONS])
@pytest.mark.parametrize("viewer", VIEWERS)
async def test_mutation_authorization(
    gql: GraphQLClient, session: AsyncSession, world: World, document: str, field: str, variables: Any, viewer: str
) -> None:
    expected = EXPECTED_MUTATIONS[field][viewer]
    before = await snapshot(session, world)
    response = await gql.execute(document, {"i": variables(world)}, token=world.token(viewer))
    value = (response.data or {}).get(field)
    if expected in (UNAUTHENTICATED, FORBIDDEN):
        assert response.error_codes == [expected] and value is None
    else:
        assert response.errors == [], response.errors
        codes = [error["code"] for error in value["errors"]]
        assert codes == ([] if expected == OK else [expected]), codes
    if expected != OK:
        assert await snapshot(session, world) == before


@pytest.mark.parametrize("target", list(QUERIES))
@pytest.mark.parametrize("viewer", VIEWERS)
async def test_node_authorization(gql: GraphQLClient, world: World, target: str, viewer: str) -> None:
    response = await gql.execute(NODE, {"id": world.ids[NODE_KEYS[target]]}, token=world.token(viewer))
    node = response.ok()["node"]
    assert (node is not None) == (QUERIES[target][viewer] == SEEN)


CHILD_FIELDS = """query($id: ID!) { node(id: $id) { ... on Child { id name points
  tasks(first: 5) { totalCount } gifts(first: 5) { totalCount } taskResults(first: 5) { totalCount }
  pointsHistory(first: 5) { totalCount } stats { attempts } } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_a_childs_fields_follow_the_child(gql: GraphQLClient, world: World, viewer: str) -> None:
    node = (await gql.execute(CHILD_FIELDS, {"id": world.ids["child"]}, token=world.token(viewer))).ok()["node"]
    if FAMILY_SEES[viewer] != SEEN:
        assert node is None
        return
    # The child sees one gift fewer: the hidden one
    gifts = 2 if viewer == "parent" else 1
    assert node | {"id": None, "name": None} == {
        "id": None, "name": None, "points": 20, "tasks": {"totalCount": 2}, "gifts": {"totalCount": gifts},
        "taskResults": {"totalCount": 1}, "pointsHistory": {"totalCount": 1}, "stats": {"attempts": 1},
    }


ANSWER = "query($id: ID!) { node(id: $id) { ... on TaskAnswer { correct } } }"


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_which_answer_is_correct_is_for_the_parent_only(gql: GraphQLClient, world: World, viewer: str) -> None:
    node = (await gql.execute(ANSWER, {"id": world.ids["answer"]}, token=world.token(viewer))).ok()["node"]
    expected = {"parent": {"correct": True}, "child": {"correct": None}}.get(viewer)
    assert node == expected


VIEWER_FIELDS = """query { me { children(first: 5) { totalCount edges { node { id } } } childProfile { id } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_viewer_fields(gql: GraphQLClient, world: World, viewer: str) -> None:
    me = (await gql.execute(VIEWER_FIELDS, token=world.token(viewer))).ok()["me"]
    if viewer == "anonymous":
        assert me is None
        return
    children = [edge["node"]["id"] for edge in me["children"]["edges"]]
    profile = me["childProfile"]["id"] if me["childProfile"] else None
    own = {"child": world.ids["child"], "other_child": gid("Child", world.joneses.child.user.id)}
    assert children == ([world.ids["child"]] if viewer == "parent"
                        else [gid("Child", world.joneses.child.user.id)] if viewer == "other" else [])
    assert profile == own.get(viewer)


def test_the_matrix_covers_every_family_root_and_viewer_field() -> None:
    schema = build_schema()
    names = {
        schema.config.name_converter.get_graphql_name(field)
        for root in (FamilyMutation, FamilySubscription, FamilyViewerFields)
        for field in root.__strawberry_definition__.fields
    }
    # giftUnlocked's matrix is in test_subscriptions (websockets) and below
    assert names == {field for _, field, _ in MUTATIONS} | {"children", "childProfile", "giftUnlocked"}
