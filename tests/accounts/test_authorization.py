"""Every query and mutation, asked by everyone: anonymous, a child, the owner, another member, an admin.

"open" means the operation ran (its payload may still carry errors for this input), "null" a
field that answers null, UNAUTHENTICATED / FORBIDDEN a top-level error and a null field.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from graph.accounts.mutations import AccountMutation, SignInMutation
from graph.accounts.queries import AccountsQuery
from graph.schema import NodeQuery, build_schema
from tests.accounts.conftest import PASSWORD, Person, fresh
from tests.support.client import GraphQLClient, contract_operation

VIEWERS = ["anonymous", "child", "member", "other", "admin"]
OPEN = "open"
SELF = "self"
OWNER_ONLY = "owner"
NULL = "null"


def _input(**fields: Any) -> dict[str, Any]:
    return {"input": fields}


# operation (contract name or extra document), root field, variables, expectation per viewer
MATRIX: list[tuple[str, str, Any, dict[str, str]]] = [
    ("Me", "me", None, {"anonymous": NULL, "child": SELF, "member": SELF, "other": SELF, "admin": SELF}),
    ("NodeById", "node", "owner",
     {"anonymous": NULL, "child": NULL, "member": OWNER_ONLY, "other": NULL, "admin": NULL}),
    ("Register", "register",
     _input(email="new@example.com", password="short", name="New"), dict.fromkeys(VIEWERS, OPEN)),
    ("Login", "login", _input(login="owner@example.com", password="wrong password!"), dict.fromkeys(VIEWERS, OPEN)),
    ("VerifyOtp", "verifyOtp", _input(challengeId="00000000-0000-0000-0000-000000000000", code="000000"),
     dict.fromkeys(VIEWERS, OPEN)),
    ("RefreshToken", "refreshToken", _input(refreshToken="made-up"), dict.fromkeys(VIEWERS, OPEN)),
    ("Logout", "logout", _input(refreshToken="made-up"), dict.fromkeys(VIEWERS, OPEN)),
    ("EnableTwoFactor", "enableTwoFactor", _input(channel="SMS"),
     {"anonymous": "UNAUTHENTICATED", "child": "FORBIDDEN", "member": OPEN, "other": OPEN, "admin": OPEN}),
    ("ChangePassword", "changePassword", _input(currentPassword="wrong password!", newPassword="whatever it is"),
     {"anonymous": "UNAUTHENTICATED", "child": OPEN, "member": OPEN, "other": OPEN, "admin": OPEN}),
    ("RequestPasswordReset", "requestPasswordReset", _input(email="owner@example.com"),
     dict.fromkeys(VIEWERS, OPEN)),
    ("ResetPassword", "resetPassword", _input(token="made-up", newPassword="whatever it is"),
     dict.fromkeys(VIEWERS, OPEN)),
    ("mutation($input: VerifyEmailInput!) { verifyEmail(input: $input) { errors { code } } }", "verifyEmail",
     _input(token="made-up"), dict.fromkeys(VIEWERS, OPEN)),
]

CASES = [
    pytest.param(operation, field, variables, viewer, expected[viewer], id=f"{field}-{viewer}")
    for operation, field, variables, expected in MATRIX
    for viewer in VIEWERS
]


def test_the_matrix_covers_every_accounts_root_field() -> None:
    # Each root type accounts brings, plus node(id:): any field added later must join the matrix
    schema = build_schema()
    names = {
        schema.config.name_converter.get_graphql_name(field)
        for root in (AccountsQuery, SignInMutation, AccountMutation, NodeQuery)
        for field in root.__strawberry_definition__.fields
    }
    assert {field for _, field, _, _ in MATRIX} == names


@pytest.mark.parametrize(("operation", "field", "variables", "viewer", "expected"), CASES)
async def test_authorization(
    gql: GraphQLClient,
    session: AsyncSession,
    people: dict[str, Person],
    operation: str,
    field: str,
    variables: Any,
    viewer: str,
    expected: str,
) -> None:
    # Given the viewer's token (none when anonymous)
    person = people.get(viewer)
    token = person.token if person else None
    owner = people["member"]
    if variables == "owner":
        variables = {"id": relay.to_base64("User", owner.user.id)}
    document = operation if operation.lstrip().startswith(("query", "mutation")) else contract_operation(
        "accounts", operation
    )
    before = await fresh(session, owner.user)
    before_state = (before.password_hash, before.two_factor_channel, before.failed_attempts)
    # When they send it
    response = await gql.execute(document, variables, token=token)
    # Then they get what the matrix says
    value = (response.data or {}).get(field)
    if expected in ("UNAUTHENTICATED", "FORBIDDEN"):
        assert response.error_codes == [expected]
        assert value is None
    else:
        assert response.errors == []
        if expected == NULL:
            assert value is None
        elif expected == SELF:
            assert value["id"] == relay.to_base64("User", person.user.id)
        elif expected == OWNER_ONLY:
            assert value["id"] == relay.to_base64("User", owner.user.id)
        else:
            assert value is not None and "errors" in value
    # And nobody but the owner changed the owner's account (a wrong password counts, by design)
    after = await fresh(session, owner.user)
    if field != "login":
        assert (after.password_hash, after.two_factor_channel, after.failed_attempts) == before_state


async def test_staff_see_nothing_of_a_members_account(
    gql: GraphQLClient, session: AsyncSession, people: dict[str, Person]
) -> None:
    # An admin asking for a member's user by id gets what a missing id gets
    member_id = relay.to_base64("User", people["member"].user.id)
    missing_id = relay.to_base64("User", "00000000-0000-0000-0000-000000000000")
    admin = people["admin"].token
    as_member = await gql.contract("accounts", "NodeById", {"id": member_id}, token=admin)
    as_missing = await gql.contract("accounts", "NodeById", {"id": missing_id}, token=admin)
    assert as_member.body == as_missing.body == {"data": {"node": None}}


async def test_a_signed_in_child_can_change_their_own_password(
    gql: GraphQLClient, session: AsyncSession, people: dict[str, Person]
) -> None:
    variables = {"input": {"currentPassword": PASSWORD, "newPassword": "a new secret phrase"}}
    response = await gql.contract("accounts", "ChangePassword", variables, token=people["child"].token)
    assert response.ok()["changePassword"]["errors"] == []
