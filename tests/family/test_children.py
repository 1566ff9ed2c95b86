"""Children: added by a parent, signing in with a username, edited, reset, removed; only ever
seen by their own parent (and themself)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import SignIn, User
from db.models.family import FamilyChild, FamilyGift, FamilyTask
from tests.accounts.conftest import fresh, make_person
from tests.family.conftest import (
    CHILD_PASSWORD,
    Family,
    assert_ledger_clean,
    balance_of,
    count_rows,
    earn,
    errors_of,
    gid,
    make_gift,
    make_task,
)
from tests.support.client import GraphQLClient

UPDATE = """mutation($input: UpdateChildInput!) {
  updateChild(input: $input) { child { id name birthday } errors { field code message } } }"""
REMOVE = """mutation($input: RemoveChildInput!) {
  removeChild(input: $input) { removedChildId errors { field code message } } }"""
RESET = """mutation($input: ResetChildPasswordInput!) {
  resetChildPassword(input: $input) { child { id } errors { field code message } } }"""
CHILDREN = "query { me { children(first: 10) { totalCount edges { node { id name username points } } } } }"


def child_input(**overrides: Any) -> dict[str, Any]:
    return {"input": {"name": "Kit", "username": "kit.smith", "password": CHILD_PASSWORD, "birthday": "2016-04-02",
                      **overrides}}


async def test_a_parent_adds_a_child_who_then_signs_in_with_the_username(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # Given a signed-in parent
    parent = await make_person(session, email="pat@example.com", name="Pat")
    # When they add a child
    response = await gql.contract("family", "AddChild", child_input(), token=parent.token)
    # Then the child exists, with no points yet
    payload = response.ok()["addChild"]
    assert payload["errors"] == []
    child = payload["child"]
    assert child | {"id": None} == {"id": None, "name": "Kit", "username": "kit.smith", "points": 0,
                                    "birthday": "2016-04-02"}
    # And shows in the parent's children
    listed = (await gql.execute(CHILDREN, token=parent.token)).ok()["me"]["children"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["id"] == child["id"]
    # And signs in with the username, as a CHILD, and sees their own profile
    login = (await gql.contract("accounts", "Login", {"input": {"login": "Kit.Smith", "password": CHILD_PASSWORD}}))
    signed_in = login.ok()["login"]
    assert signed_in["errors"] == [] and signed_in["user"]["role"] == "CHILD"
    home = (await gql.contract("family", "ChildHome", {"tasksFirst": 5}, token=signed_in["accessToken"])).ok()
    assert home["me"]["role"] == "CHILD"
    assert home["me"]["childProfile"]["id"] == child["id"]
    assert home["me"]["childProfile"]["points"] == 0
    # And the child's own `children` list is empty, the parent's childProfile null
    as_child = (await gql.execute(CHILDREN, token=signed_in["accessToken"])).ok()
    assert as_child["me"]["children"] == {"totalCount": 0, "edges": []}
    as_parent = (await gql.contract("family", "ChildHome", {}, token=parent.token)).ok()
    assert as_parent["me"]["childProfile"] is None


async def test_a_taken_username_is_refused_whatever_its_case(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    before = await count_rows(session, User)
    response = await gql.contract("family", "AddChild", child_input(username="KIT"), token=smiths.parent.token)
    payload = response.ok()["addChild"]
    assert payload["child"] is None and errors_of(payload) == [("username", "USERNAME_TAKEN")]
    assert await count_rows(session, User) == before


async def test_a_weak_password_is_refused(gql: GraphQLClient, session: AsyncSession, smiths: Family) -> None:
    before = await count_rows(session, FamilyChild)
    response = await gql.contract("family", "AddChild", child_input(password="kit"), token=smiths.parent.token)
    assert errors_of(response.ok()["addChild"]) == [("password", "WEAK_PASSWORD")]
    assert await count_rows(session, FamilyChild) == before


async def test_every_bad_field_is_named_at_once(gql: GraphQLClient, session: AsyncSession, smiths: Family) -> None:
    before = await count_rows(session, User)
    variables = child_input(name=" ", username="a b", birthday="2999-01-01")
    payload = (await gql.contract("family", "AddChild", variables, token=smiths.parent.token)).ok()["addChild"]
    assert sorted(errors_of(payload)) == [("birthday", "INVALID"), ("name", "INVALID"), ("username", "INVALID")]
    assert await count_rows(session, User) == before


async def test_a_parent_renames_a_child_and_clears_the_birthday(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    child_id = gid("Child", smiths.child.user.id)
    variables = {"input": {"childId": child_id, "name": "Kitty", "birthday": "2015-01-31"}}
    payload = (await gql.execute(UPDATE, variables, token=smiths.parent.token)).ok()["updateChild"]
    assert payload == {"child": {"id": child_id, "name": "Kitty", "birthday": "2015-01-31"}, "errors": []}
    # Leaving the name out keeps it; a null birthday clears it
    variables = {"input": {"childId": child_id, "birthday": None}}
    payload = (await gql.execute(UPDATE, variables, token=smiths.parent.token)).ok()["updateChild"]
    assert payload["child"] == {"id": child_id, "name": "Kitty", "birthday": None}


async def test_another_parents_child_does_not_exist(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    # Given the Joneses' child
    theirs = gid("Child", joneses.child.user.id)
    before = await fresh(session, joneses.child.user)
    # When the Smiths' parent edits, resets or removes them, or asks for them by id
    token = smiths.parent.token
    update = (await gql.execute(UPDATE, {"input": {"childId": theirs, "name": "Mine"}}, token=token)).ok()
    reset = (await gql.execute(RESET, {"input": {"childId": theirs, "newPassword": "another fine secret"}},
                               token=token)).ok()
    remove = (await gql.execute(REMOVE, {"input": {"childId": theirs}}, token=token)).ok()
    node = (await gql.contract("accounts", "NodeById", {"id": theirs}, token=token)).ok()
    # Then each answers like a missing child, and nothing changed
    for payload in (update["updateChild"], reset["resetChildPassword"], remove["removeChild"]):
        assert errors_of(payload) == [("childId", "NOT_FOUND")]
    assert node == {"node": None}
    after = await fresh(session, joneses.child.user)
    assert (after.name, after.password_hash) == (before.name, before.password_hash)
    assert await count_rows(session, FamilyChild, FamilyChild.user_id == joneses.child.user.id) == 1


async def test_a_parent_resets_a_childs_password_and_the_old_sign_ins_end(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    child_id = gid("Child", smiths.child.user.id)
    # A weak one is refused, and the old password still works
    weak = (await gql.execute(RESET, {"input": {"childId": child_id, "newPassword": "kit"}},
                              token=smiths.parent.token)).ok()["resetChildPassword"]
    assert errors_of(weak) == [("newPassword", "WEAK_PASSWORD")]
    # When the parent sets a new one
    done = (await gql.execute(RESET, {"input": {"childId": child_id, "newPassword": "penguins like fish"}},
                              token=smiths.parent.token)).ok()["resetChildPassword"]
    assert done == {"child": {"id": child_id}, "errors": []}
    # Then the child's existing token no longer works, the old password neither, the new one does
    me = (await gql.contract("accounts", "Me", token=smiths.child.token)).ok()
    assert me["me"] is None
    old = (await gql.contract("accounts", "Login", {"input": {"login": "kit", "password": CHILD_PASSWORD}})).ok()
    assert old["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    new = (await gql.contract("accounts", "Login", {"input": {"login": "kit", "password": "penguins like fish"}}))
    assert new.ok()["login"]["errors"] == []


async def test_removing_a_child_deletes_their_account_and_returns_their_points(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given a child with points, a task and a gift
    await earn(session, smiths, 30)
    await make_task(session, smiths)
    await make_gift(session, smiths, 500)
    child = smiths.child.user
    assert await balance_of(session, child.id) == 30
    # When the parent removes them
    child_id = gid("Child", child.id)
    payload = (await gql.execute(REMOVE, {"input": {"childId": child_id}}, token=smiths.parent.token)).ok()
    assert payload["removeChild"] == {"removedChildId": child_id, "errors": []}
    # Then the account, the family rows and the sign-ins are gone
    for model, where in ((User, User.id == child.id), (FamilyChild, FamilyChild.user_id == child.id),
                         (FamilyTask, FamilyTask.child_id == child.id), (FamilyGift, FamilyGift.child_id == child.id),
                         (SignIn, SignIn.user_id == child.id)):
        assert await count_rows(session, model, where) == 0
    # And the child's token is dead, and the points went back to the rewards account (the book balances)
    assert (await gql.contract("accounts", "Me", token=smiths.child.token)).ok()["me"] is None
    assert await balance_of(session, child.id) == 0
    await assert_ledger_clean(session)
    # And the username is free again
    again = await gql.contract("family", "AddChild", child_input(username="kit"), token=smiths.parent.token)
    assert again.ok()["addChild"]["errors"] == []
