"""Register and verifyEmail: a new adult account, signed in at once, and its email confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import SignIn, User
from tests.accounts.conftest import Outbox, count, errors_of, event_types, fresh, make_user
from tests.support.client import GraphQLClient

GOOD = {"email": "grace@example.com", "password": "a long and unusual one", "name": "Grace Hopper"}

VERIFY_EMAIL = "mutation($input: VerifyEmailInput!) { verifyEmail(input: $input) { errors { field code message } } }"


async def register(gql: GraphQLClient, **fields: object) -> dict:
    response = await gql.contract("accounts", "Register", {"input": {**GOOD, **fields}})
    return response.ok()["register"]


async def test_register_creates_a_member_signed_in_with_tokens(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox
) -> None:
    # When someone registers
    payload = await register(gql, phone="+44 20 7946 0958")
    # Then they are a MEMBER without two-factor, holding tokens that work at once
    assert payload["errors"] == []
    assert payload["user"]["email"] == "grace@example.com"
    assert payload["user"]["role"] == "MEMBER"
    assert payload["user"]["twoFactorEnabled"] is False
    me = (await gql.contract("accounts", "Me", token=payload["accessToken"])).ok()["me"]
    assert me["id"] == payload["user"]["id"]
    assert payload["refreshToken"]
    # And the row keeps a hash, not the password, and the phone in E.164
    user = await session.scalar(select(User).where(User.email == "grace@example.com"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash
    assert user.phone == "+442079460958"
    assert user.email_verified_at is None
    # And a verification link went out, and the audit trail has the sign-up and the sign-in
    assert "/verify-email?token=" in outbox.last("verify_email", to="grace@example.com")["body"]
    assert await event_types(session, user) == ["registered", "signed_in"]


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.COM", "  ada@example.com "])
async def test_an_email_in_use_is_taken_whatever_its_case(
    gql: GraphQLClient, session: AsyncSession, ada: User, email: str
) -> None:
    payload = await register(gql, email=email)
    assert errors_of(payload) == ["EMAIL_TAKEN"]
    assert payload["errors"][0]["field"] == "email"
    assert payload["accessToken"] is None and payload["user"] is None
    # Nothing was written
    assert await count(session, User) == 1
    assert await count(session, SignIn) == 0


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "under ten characters"),
        ("password123", "in the common list"),
        ("PASSWORD123", "in the common list, whatever the case"),
        ("qwertyuiop", "in the common list"),
        ("grace@example.com", "the email"),
        ("Grace Hopper", "the name"),
        ("aaaaaaaaaaaa", "one character repeated"),
    ],
)
async def test_a_weak_password_is_refused(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox, password: str, why: str
) -> None:
    payload = await register(gql, password=password)
    assert errors_of(payload) == ["WEAK_PASSWORD"], why
    assert payload["errors"][0]["field"] == "password"
    assert await count(session, User) == 0
    assert outbox.messages() == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": "   "}, "name"),
        ({"phone": "12"}, "phone"),
    ],
)
async def test_bad_input_is_invalid_and_names_the_field(
    gql: GraphQLClient, session: AsyncSession, fields: dict, field: str
) -> None:
    payload = await register(gql, **fields)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", field)]
    assert await count(session, User) == 0


async def test_every_bad_field_is_reported_at_once(gql: GraphQLClient) -> None:
    payload = await register(gql, email="nope", name="", password="short")
    assert sorted((e["field"], e["code"]) for e in payload["errors"]) == [
        ("email", "INVALID"),
        ("name", "INVALID"),
        ("password", "WEAK_PASSWORD"),
    ]


async def test_the_verification_link_confirms_the_email_once(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox
) -> None:
    # Given a new account and the token its email carried
    await register(gql)
    token = outbox.token("verify_email")
    # When the link is followed
    first = (await gql.execute(VERIFY_EMAIL, {"input": {"token": token}})).ok()["verifyEmail"]
    # Then the email counts as verified
    assert first["errors"] == []
    user = await session.scalar(select(User).where(User.email == GOOD["email"]))
    assert user is not None and user.email_verified_at is not None
    assert "email_verified" in await event_types(session, user)
    # And the same link does not work twice
    again = (await gql.execute(VERIFY_EMAIL, {"input": {"token": token}})).ok()["verifyEmail"]
    assert errors_of(again) == ["INVALID_TOKEN"]


async def test_an_unknown_or_expired_verification_token_is_invalid(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox, clock
) -> None:
    unknown = (await gql.execute(VERIFY_EMAIL, {"input": {"token": "made-up"}})).ok()["verifyEmail"]
    assert errors_of(unknown) == ["INVALID_TOKEN"]
    assert unknown["errors"][0]["field"] == "token"
    # Given a link older than its three days
    await register(gql)
    token = outbox.token("verify_email")
    clock.advance(timedelta(days=3, seconds=1))
    expired = (await gql.execute(VERIFY_EMAIL, {"input": {"token": token}})).ok()["verifyEmail"]
    assert errors_of(expired) == ["INVALID_TOKEN"]
    user = await session.scalar(select(User).where(User.email == GOOD["email"]))
    assert user is not None
    assert (await fresh(session, user)).email_verified_at is None


async def test_registration_is_rate_limited_per_ip(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given ten sign-ups from one address within the hour
    for i in range(10):
        assert (await register(gql, email=f"person{i}@example.com"))["errors"] == []
    # When an eleventh comes
    response = await gql.contract("accounts", "Register", {"input": {**GOOD, "email": "eleventh@example.com"}})
    # Then it is throttled with a retry-after, and no account was made
    assert response.error_codes == ["RATE_LIMITED"]
    assert 0 < response.errors[0]["extensions"]["retryAfter"] <= 3600
    assert response.data == {"register": None}
    assert await count(session, User) == 10


async def test_registration_is_rate_limited_per_email(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given an address already used five times this hour (refused as taken after the first)
    await make_user(session, email=GOOD["email"])
    for _ in range(5):
        assert errors_of(await register(gql)) == ["EMAIL_TAKEN"]
    # Then the sixth is throttled
    response = await gql.contract("accounts", "Register", {"input": GOOD})
    assert response.error_codes == ["RATE_LIMITED"]
