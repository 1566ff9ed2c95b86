"""Login, me and node: who one is after signing in, and what a bad token makes of a request."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.models.accounts import SecurityEvent, SignIn, User
from domain.accounts import passwords, tokens
from domain.actor import Role
from tally.runtime import Runtime
from tests.accounts.conftest import PASSWORD, count, errors_of, event_types, fresh, login, make_person, make_user
from tests.support.client import GraphQLClient, contract_operation

CHANGE_PASSWORD = "accounts", "ChangePassword"


async def test_login_with_email_returns_working_tokens(gql: GraphQLClient, session: AsyncSession, ada: User) -> None:
    # When Ada signs in (her email typed in another case)
    payload = await login(gql, "ADA@example.com", PASSWORD)
    # Then she gets an access token for herself, a refresh token, and when the access token ends
    assert payload["errors"] == []
    assert payload["otpChallenge"] is None
    assert payload["user"] == {
        "id": relay.to_base64("User", ada.id),
        "name": "Ada Lovelace",
        "role": "MEMBER",
    }
    assert payload["refreshToken"] and payload["accessTokenExpiresAt"]
    me = (await gql.contract("accounts", "Me", token=payload["accessToken"])).ok()["me"]
    assert me["email"] == "ada@example.com"
    # And the sign-in is on record with where it came from
    assert await count(session, SignIn) == 1
    assert await event_types(session, ada) == ["signed_in"]


async def test_the_access_token_carries_the_agreed_claims(
    gql: GraphQLClient, runtime: Runtime, ada: User, clock
) -> None:
    payload = await login(gql, "ada@example.com", PASSWORD)
    claims = jwt.decode(payload["accessToken"], runtime.settings.secret_key, algorithms=["HS256"],
                        options={"verify_exp": False, "verify_iat": False})  # tests run on tally's clock
    assert set(claims) == {"sub", "role", "sid", "exp", "iat", "jti"}
    assert claims["sub"] == str(ada.id)
    assert claims["role"] == "MEMBER"
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_a_child_signs_in_with_a_username(gql: GraphQLClient, session: AsyncSession) -> None:
    await make_user(session, email=None, username="Kit", name="Kit", role=Role.CHILD)
    payload = await login(gql, "kit", PASSWORD)
    assert payload["errors"] == []
    assert payload["user"]["role"] == "CHILD"


async def test_unknown_login_and_wrong_password_answer_alike(
    gql: GraphQLClient, session: AsyncSession, ada: User
) -> None:
    # When one tries an address nobody has, and Ada's address with a wrong password
    unknown = await login(gql, "nobody@example.com", PASSWORD)
    wrong = await login(gql, "ada@example.com", "not the right one")
    # Then both get exactly the same answer, and no tokens
    assert unknown == wrong
    assert errors_of(wrong) == ["INVALID_CREDENTIALS"]
    assert wrong["accessToken"] is None and wrong["user"] is None
    # And both failures are on record, with the user where there is one
    assert await event_types(session) == ["sign_in_failed", "sign_in_failed"]
    assert await count(session, SignIn) == 0


async def test_an_unknown_login_costs_a_password_check_too(
    gql: GraphQLClient, ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a hasher that counts its verifications
    verified: list[str] = []
    real = passwords.hasher

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            verified.append("verify")
            return real.verify(hash, password)

    monkeypatch.setattr(passwords, "hasher", CountingHasher())
    # When an unknown address and a wrong password are tried
    await login(gql, "nobody@example.com", PASSWORD)
    await login(gql, "ada@example.com", "not the right one")
    # Then each cost one argon2 verification (a dummy hash for the unknown one)
    assert verified == ["verify", "verify"]


async def test_login_rehashes_a_password_made_with_old_parameters(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # Given a hash made with cheaper parameters than today's
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = await make_user(session)
    user.password_hash = old
    await session.commit()
    assert passwords.needs_rehash(old)
    # When the user signs in
    assert (await login(gql, "ada@example.com", PASSWORD))["errors"] == []
    # Then the stored hash is today's kind, and it still signs them in
    stored = (await fresh(session, user)).password_hash
    assert stored != old and not passwords.needs_rehash(stored)
    assert "password_rehashed" in await event_types(session, user)
    assert (await login(gql, "ada@example.com", PASSWORD))["errors"] == []


async def test_me_is_null_when_signed_out(gql: GraphQLClient) -> None:
    assert (await gql.contract("accounts", "Me")).ok() == {"me": None}


@pytest.mark.parametrize("kind", ["expired", "forged", "garbage", "other secret"])
async def test_a_bad_token_makes_the_request_anonymous(
    gql: GraphQLClient, session: AsyncSession, runtime: Runtime, clock, kind: str
) -> None:
    # Given a signed-in person and a token that is no good
    person = await make_person(session)
    token = person.token
    if kind == "expired":
        clock.advance(tokens.ACCESS_TOKEN_LIFETIME + timedelta(seconds=1))
    elif kind == "forged":
        claims = jwt.decode(token, runtime.settings.secret_key, algorithms=["HS256"], options={"verify_iat": False})
        claims["role"] = "ADMIN"
        header, _, signature = token.split(".")
        token = ".".join([header, jwt.encode(claims, "x" * 40).split(".")[1], signature])
    elif kind == "garbage":
        token = "not.a.jwt"
    else:
        token = tokens.issue_access_token("y" * 48, person.user.id, "ADMIN", person.tokens.sign_in_id).token
    # When it is sent: public fields answer as to anyone signed out
    assert (await gql.contract("accounts", "Me", token=token)).ok() == {"me": None}
    # And fields that need a user say so
    response = await gql.contract(
        *CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "another good one"}}, token=token
    )
    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_an_access_token_works_until_it_expires(gql: GraphQLClient, session: AsyncSession, clock) -> None:
    person = await make_person(session)
    clock.advance(tokens.ACCESS_TOKEN_LIFETIME - timedelta(seconds=5))
    assert (await gql.contract("accounts", "Me", token=person.token)).ok()["me"] is not None
    clock.advance(timedelta(seconds=10))
    assert (await gql.contract("accounts", "Me", token=person.token)).ok()["me"] is None


async def test_node_returns_ones_own_user_and_nobody_elses(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given two members
    ada = await make_person(session)
    bob = await make_person(session, email="bob@example.com", name="Bob")
    ada_id = relay.to_base64("User", ada.user.id)
    bob_id = relay.to_base64("User", bob.user.id)
    missing_id = relay.to_base64("User", "00000000-0000-0000-0000-000000000000")

    async def node(global_id: str, token: str | None) -> object:
        return (await gql.contract("accounts", "NodeById", {"id": global_id}, token=token)).ok()["node"]

    # Then each sees their own user
    assert await node(ada_id, ada.token) == {"id": ada_id, "__typename": "User"}
    # And another's answers exactly like one that does not exist, or a malformed id
    assert await node(bob_id, ada.token) is None
    assert await node(missing_id, ada.token) is None
    assert await node("bm90IGFuIGlk", ada.token) is None
    assert await node(ada_id, None) is None


async def test_node_lists_load_in_one_query(gql: GraphQLClient, session: AsyncSession, runtime: Runtime) -> None:
    # Given a document asking for several nodes at once
    ada = await make_person(session)
    ids = [relay.to_base64("User", ada.user.id)] * 3 + [relay.to_base64("User", "0" * 32)]
    query = "query { " + " ".join(f'n{i}: node(id: "{g}") {{ id }}' for i, g in enumerate(ids)) + " }"
    statements: list[str] = []
    def count_users(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM users" in statement:
            statements.append(statement)

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_users)
    try:
        data = (await gql.execute(query, token=ada.token)).ok()
    finally:
        event.remove(engine, "before_cursor_execute", count_users)
    # Then the visible ones answer, and the users were read with one statement
    assert [data[f"n{i}"] is not None for i in range(4)] == [True, True, True, False]
    assert len(statements) == 1


async def test_security_events_record_where_an_attempt_came_from(
    gql: GraphQLClient, session: AsyncSession, ada: User
) -> None:
    # When a wrong password comes from a browser
    await gql.execute(
        contract_operation("accounts", "Login"),
        {"input": {"login": "ada@example.com", "password": "not the right one"}},
        headers={"user-agent": "Firefox/140.0"},
    )
    # Then the audit trail has who, when, from which address and program, and why it failed
    event = await session.scalar(select(SecurityEvent).where(SecurityEvent.user_id == ada.id))
    assert event is not None
    assert (event.type, event.ip, event.user_agent) == ("sign_in_failed", "203.0.113.7", "Firefox/140.0")
    assert event.details == {"reason": "wrong_password", "failed_attempts": 1}
    assert event.created_at.tzinfo is not None
