"""changePassword, requestPasswordReset, resetPassword, and the strength rules behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts import passwords
from domain.accounts.link_tokens import LIFETIMES, Purpose
from tests.accounts.conftest import (
    PASSWORD,
    Outbox,
    errors_of,
    event_types,
    fresh,
    login,
    make_person,
    sign_in,
)
from tests.support.client import GraphQLClient

NEW = "a brand new passphrase"


async def change(gql: GraphQLClient, token: str, current: str, new: str) -> dict:
    variables = {"input": {"currentPassword": current, "newPassword": new}}
    return (await gql.contract("accounts", "ChangePassword", variables, token=token)).ok()["changePassword"]


async def request_reset(gql: GraphQLClient, email: str) -> dict:
    response = await gql.contract("accounts", "RequestPasswordReset", {"input": {"email": email}})
    return response.ok()["requestPasswordReset"]


async def reset(gql: GraphQLClient, token: str, new: str = NEW) -> dict:
    variables = {"input": {"token": token, "newPassword": new}}
    return (await gql.contract("accounts", "ResetPassword", variables)).ok()["resetPassword"]


async def me(gql: GraphQLClient, token: str) -> dict | None:
    return (await gql.contract("accounts", "Me", token=token)).ok()["me"]


async def test_change_password_needs_the_current_one(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    before = ada.user.password_hash
    payload = await change(gql, ada.token, "not the current one", NEW)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_CREDENTIALS", "currentPassword")]
    assert (await fresh(session, ada.user)).password_hash == before


async def test_change_password_refuses_a_weak_one(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    before = ada.user.password_hash
    payload = await change(gql, ada.token, PASSWORD, "password123")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    assert errors_of(await change(gql, ada.token, PASSWORD, PASSWORD)) == ["INVALID"]
    assert (await fresh(session, ada.user)).password_hash == before


async def test_change_password_ends_every_other_sign_in(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given Ada on her laptop and her phone
    laptop = await make_person(session)
    phone = await sign_in(session, laptop.user)
    # When she changes her password on the laptop
    assert (await change(gql, laptop.token, PASSWORD, NEW))["errors"] == []
    # Then the new password signs in and the old one does not
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert (await login(gql, "ada@example.com", NEW))["errors"] == []
    # And the phone is signed out, the laptop is not
    assert await me(gql, phone.token) is None
    assert await me(gql, laptop.token) is not None
    assert "password_changed" in await event_types(session, laptop.user)


async def test_a_reset_request_answers_the_same_whether_or_not_the_email_exists(
    gql: GraphQLClient, session: AsyncSession, ada: User, outbox: Outbox
) -> None:
    known = await request_reset(gql, "ada@example.com")
    unknown = await request_reset(gql, "nobody@example.com")
    garbage = await request_reset(gql, "not an email")
    assert known == unknown == garbage == {"errors": []}
    # Only the real account got a link
    assert [m["to"] for m in outbox.messages("reset_password")] == ["ada@example.com"]
    assert "password_reset_requested" in await event_types(session, ada)


async def test_reset_sets_the_password_and_ends_every_sign_in(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox
) -> None:
    # Given Ada signed in on two devices, and a reset link
    laptop = await make_person(session)
    phone = await sign_in(session, laptop.user)
    await request_reset(gql, "ada@example.com")
    token = outbox.token("reset_password")
    # When she follows it with a new password
    assert (await reset(gql, token))["errors"] == []
    # Then the new password works, the old does not, and every sign-in has ended
    assert (await login(gql, "ada@example.com", NEW))["errors"] == []
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert await me(gql, laptop.token) is None
    assert await me(gql, phone.token) is None
    assert "password_reset" in await event_types(session, laptop.user)
    # And the link is single-use
    assert errors_of(await reset(gql, token, "yet another passphrase")) == ["INVALID_TOKEN"]


async def test_a_reset_link_lasts_one_hour(
    gql: GraphQLClient, session: AsyncSession, ada: User, outbox: Outbox, clock
) -> None:
    await request_reset(gql, "ada@example.com")
    token = outbox.token("reset_password")
    assert LIFETIMES[Purpose.RESET_PASSWORD] == timedelta(hours=1)
    clock.advance(timedelta(hours=1, seconds=1))
    assert errors_of(await reset(gql, token)) == ["INVALID_TOKEN"]
    assert (await login(gql, "ada@example.com", PASSWORD))["errors"] == []


async def test_a_weak_new_password_keeps_the_link_usable(
    gql: GraphQLClient, session: AsyncSession, ada: User, outbox: Outbox
) -> None:
    await request_reset(gql, "ada@example.com")
    token = outbox.token("reset_password")
    before = ada.password_hash
    payload = await reset(gql, token, "ada@example.com")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    assert (await fresh(session, ada)).password_hash == before
    assert (await reset(gql, token))["errors"] == []


async def test_only_the_newest_reset_link_survives_a_reset(
    gql: GraphQLClient, session: AsyncSession, ada: User, outbox: Outbox
) -> None:
    await request_reset(gql, "ada@example.com")
    first = outbox.token("reset_password")
    await request_reset(gql, "ada@example.com")
    second = outbox.token("reset_password")
    assert (await reset(gql, second))["errors"] == []
    assert errors_of(await reset(gql, first, "yet another passphrase")) == ["INVALID_TOKEN"]


async def test_a_reset_ends_a_lockout(gql: GraphQLClient, session: AsyncSession, ada: User, outbox: Outbox) -> None:
    for _ in range(5):
        await login(gql, "ada@example.com", "not the right one")
    await request_reset(gql, "ada@example.com")
    assert (await reset(gql, outbox.token("reset_password")))["errors"] == []
    assert (await login(gql, "ada@example.com", NEW))["errors"] == []


async def test_an_unknown_reset_token_is_invalid(gql: GraphQLClient) -> None:
    payload = await reset(gql, "made-up")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_TOKEN", "token")]


async def test_reset_requests_are_rate_limited_per_email(gql: GraphQLClient, ada: User, outbox: Outbox) -> None:
    for _ in range(3):
        assert (await request_reset(gql, "ADA@example.com")) == {"errors": []}
    response = await gql.contract("accounts", "RequestPasswordReset", {"input": {"email": "ada@example.com"}})
    assert response.error_codes == ["RATE_LIMITED"]
    assert len(outbox.messages("reset_password")) == 3


async def test_change_password_is_rate_limited(gql: GraphQLClient, session: AsyncSession) -> None:
    # A stolen access token cannot be used to guess the current password without limit
    ada = await make_person(session)
    for _ in range(10):
        await change(gql, ada.token, "a wrong guess!", NEW)
    variables = {"input": {"currentPassword": PASSWORD, "newPassword": NEW}}
    response = await gql.contract("accounts", "ChangePassword", variables, token=ada.token)
    assert response.error_codes == ["RATE_LIMITED"]


@pytest.mark.parametrize(
    ("password", "weak"),
    [
        ("abcdefghi", True),
        ("abcdefghij", True),  # common
        ("Tr0ub4dor&3x", False),
        ("correct horse battery", False),
        ("x" * 129, True),
    ],
)
def test_strength_rules(password: str, weak: bool) -> None:
    assert bool(passwords.strength_problems(password, "password")) is weak


def test_the_common_list_ships_with_the_package() -> None:
    common = passwords.common_passwords()
    assert len(common) > 150
    assert "password123" in common
    assert not any(entry.startswith("#") for entry in common)


def test_personal_facts_are_refused_in_any_case() -> None:
    personal = ("Ada.Lovelace@example.com", "Ada Lovelace", None)
    for password in ("ada.lovelace@example.com", "ADA LOVELACE", "adalovelace", "ada.lovelace"):
        assert passwords.strength_problems(password, "password", personal=personal), password
