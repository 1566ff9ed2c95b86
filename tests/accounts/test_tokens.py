"""Refresh tokens rotate and are good once; reuse, logout and expiry end a sign-in for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import RefreshToken, SignIn
from domain.accounts import sessions, tokens
from tally.runtime import Runtime
from tests.accounts.conftest import errors_of, event_types, make_person, sign_in
from tests.support.client import GraphQLClient


async def refresh(gql: GraphQLClient, refresh_token: str) -> dict:
    response = await gql.contract("accounts", "RefreshToken", {"input": {"refreshToken": refresh_token}})
    return response.ok()["refreshToken"]


async def logout(gql: GraphQLClient, refresh_token: str) -> dict:
    return (await gql.contract("accounts", "Logout", {"input": {"refreshToken": refresh_token}})).ok()["logout"]


async def me(gql: GraphQLClient, token: str) -> dict | None:
    return (await gql.contract("accounts", "Me", token=token)).ok()["me"]


async def test_a_refresh_token_buys_a_new_pair(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    # When the refresh token is exchanged
    pair = await refresh(gql, ada.tokens.refresh_token)
    # Then a new, different pair comes back, and the new access token works
    assert pair["errors"] == []
    assert pair["refreshToken"] != ada.tokens.refresh_token
    assert pair["accessToken"] != ada.token
    assert (await me(gql, pair["accessToken"]))["email"] == "ada@example.com"
    # And the new refresh token is good for the next round
    assert (await refresh(gql, pair["refreshToken"]))["errors"] == []
    # And only hashes are stored
    stored = (await session.scalars(select(RefreshToken.token_hash))).all()
    assert ada.tokens.refresh_token not in stored
    assert tokens.digest(ada.tokens.refresh_token) in stored


async def test_reusing_a_spent_refresh_token_ends_the_whole_sign_in(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # Given a sign-in whose refresh token was exchanged once (by its owner, say)
    ada = await make_person(session)
    other_device = await make_person(session, email="ada2@example.com")
    pair = await refresh(gql, ada.tokens.refresh_token)
    # When the spent token is presented again (by a thief, say)
    reused = await refresh(gql, ada.tokens.refresh_token)
    # Then it is refused...
    assert errors_of(reused) == ["INVALID_TOKEN"]
    assert reused["accessToken"] is None
    # ...and every token of that sign-in stops working: the newest refresh token,
    assert errors_of(await refresh(gql, pair["refreshToken"])) == ["INVALID_TOKEN"]
    # the old access token and the new one
    assert await me(gql, ada.token) is None
    assert await me(gql, pair["accessToken"]) is None
    # And the reuse is on record, while other sign-ins are untouched
    assert "refresh_token_reused" in await event_types(session, ada.user)
    sign_in = await session.get(SignIn, ada.tokens.sign_in_id, populate_existing=True)
    assert sign_in is not None and sign_in.revoked_reason == "refresh_token_reused"
    assert await me(gql, other_device.token) is not None


async def test_unknown_and_expired_refresh_tokens_are_invalid(
    gql: GraphQLClient, session: AsyncSession, clock
) -> None:
    ada = await make_person(session)
    unknown = await refresh(gql, "made-up")
    assert errors_of(unknown) == ["INVALID_TOKEN"]
    assert unknown["errors"][0]["field"] == "refreshToken"
    # After thirty days a refresh token is no good, and presenting it revokes nothing
    clock.advance(tokens.REFRESH_TOKEN_LIFETIME + timedelta(seconds=1))
    assert errors_of(await refresh(gql, ada.tokens.refresh_token)) == ["INVALID_TOKEN"]
    sign_in = await session.get(SignIn, ada.tokens.sign_in_id, populate_existing=True)
    assert sign_in is not None and sign_in.revoked_at is None


async def test_refresh_keeps_the_sign_in_and_reads_the_role_again(
    gql: GraphQLClient, session: AsyncSession, runtime: Runtime
) -> None:
    ada = await make_person(session)
    ada.user.role = "ADMIN"
    await session.commit()
    pair = await refresh(gql, ada.tokens.refresh_token)
    claims = tokens.decode_access_token(runtime.settings.secret_key or "", pair["accessToken"])
    assert claims is not None
    assert claims.sign_in_id == ada.tokens.sign_in_id
    assert claims.role == "ADMIN"


async def test_logout_ends_the_sign_in_and_only_that_one(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given Ada signed in on two devices
    laptop = await make_person(session)
    phone = await sign_in(session, laptop.user)
    # Given the laptop's access token has been used (so the revocation cache knows it as live)
    assert await me(gql, laptop.token) is not None
    # When the laptop signs out
    assert (await logout(gql, laptop.tokens.refresh_token))["errors"] == []
    # Then its access and refresh tokens stop working
    assert await me(gql, laptop.token) is None
    assert errors_of(await refresh(gql, laptop.tokens.refresh_token)) == ["INVALID_TOKEN"]
    # And the phone stays signed in
    assert await me(gql, phone.token) is not None
    assert "signed_out" in await event_types(session, laptop.user)
    # And signing out twice is harmless
    assert (await logout(gql, laptop.tokens.refresh_token))["errors"] == []


async def test_logout_with_an_unknown_token_is_invalid(gql: GraphQLClient) -> None:
    assert errors_of(await logout(gql, "made-up")) == ["INVALID_TOKEN"]


async def test_revocation_is_cached_where_there_is_redis(
    gql: GraphQLClient, session: AsyncSession, runtime: Runtime
) -> None:
    ada = await make_person(session)
    assert await me(gql, ada.token) is not None
    await logout(gql, ada.tokens.refresh_token)
    key = f"{sessions.CACHE_PREFIX}{ada.tokens.sign_in_id}"
    if runtime.redis is None:
        # Embedded: the database answers each request
        assert await sessions.sign_in_is_active(runtime, ada.tokens.sign_in_id, ada.user.id) is False
        return
    # Then the cache says "revoked", for longer than any access token lives
    assert await runtime.redis.get(key) == b"0"
    assert await runtime.redis.ttl(key) > tokens.ACCESS_TOKEN_LIFETIME.total_seconds()


@pytest.mark.redis
async def test_the_cache_answers_without_the_database(
    gql: GraphQLClient, session: AsyncSession, runtime: Runtime
) -> None:
    assert runtime.redis is not None
    ada = await make_person(session)
    # Given the cache says the sign-in is revoked (though the database does not know it yet)
    await sessions.mark_revoked(runtime, [ada.tokens.sign_in_id])
    # Then its access token no longer works
    assert await me(gql, ada.token) is None
