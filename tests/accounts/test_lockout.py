"""Lockout: five wrong passwords in a row lock an account for thirty minutes, however they come."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import SignIn, User
from domain.accounts.lockout import LOCK_DURATION
from graph.app import create_app
from tally.runtime import Runtime
from tests.accounts.conftest import PASSWORD, count, errors_of, event_types, fresh, login, make_user
from tests.support.client import GraphQLClient

WRONG = "not the right password"

LOGIN_FIELDS = "accessToken errors { code }"


def aliased_logins(passwords: list[str], login_name: str = "ada@example.com", extra: str = "") -> str:
    fields = [
        f'a{i}: login(input: {{login: "{login_name}", password: "{password}"}}) {{ {LOGIN_FIELDS} }}'
        for i, password in enumerate(passwords)
    ]
    return "mutation { " + " ".join(fields) + f" {extra} }}"


async def test_five_wrong_passwords_lock_the_account(gql: GraphQLClient, session: AsyncSession, ada: User) -> None:
    # When four wrong passwords are tried
    for attempt in range(1, 5):
        assert errors_of(await login(gql, "ada@example.com", WRONG)) == ["INVALID_CREDENTIALS"]
        assert (await fresh(session, ada)).failed_attempts == attempt
    # Then the fifth locks the account, and says so
    fifth = await login(gql, "ada@example.com", WRONG)
    assert errors_of(fifth) == ["ACCOUNT_LOCKED"]
    locked = await fresh(session, ada)
    assert locked.locked_until is not None
    # And even the right password is refused while it lasts, with no sign-in made
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == ["ACCOUNT_LOCKED"]
    assert await count(session, SignIn) == 0
    events = await event_types(session, ada)
    assert events.count("sign_in_failed") == 5
    assert events.count("locked_out") == 1
    assert events[-1] == "sign_in_while_locked"


async def test_the_lock_ends_after_thirty_minutes(gql: GraphQLClient, session: AsyncSession, ada: User, clock) -> None:
    for _ in range(5):
        await login(gql, "ada@example.com", WRONG)
    clock.advance(LOCK_DURATION - timedelta(seconds=1))
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == ["ACCOUNT_LOCKED"]
    clock.advance(timedelta(seconds=2))
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == []


async def test_a_right_password_resets_the_count(gql: GraphQLClient, session: AsyncSession, ada: User) -> None:
    # Given four wrong passwords, then the right one
    for _ in range(4):
        await login(gql, "ada@example.com", WRONG)
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == []
    assert (await fresh(session, ada)).failed_attempts == 0
    # Then four more wrong ones do not lock: the count is "in a row"
    for _ in range(4):
        assert errors_of(await login(gql, "ada@example.com", WRONG)) == ["INVALID_CREDENTIALS"]
    assert (await fresh(session, ada)).locked_until is None


async def test_aliases_in_one_document_each_count(gql: GraphQLClient, session: AsyncSession, ada: User) -> None:
    # When six attempts come as aliases of one mutation, the last with the right password
    response = await gql.execute(aliased_logins([WRONG] * 5 + [PASSWORD]))
    data = response.ok()
    # Then each counted: the fifth locked the account and the sixth was refused
    codes = [[e["code"] for e in data[f"a{i}"]["errors"]] for i in range(6)]
    assert codes == [["INVALID_CREDENTIALS"]] * 4 + [["ACCOUNT_LOCKED"]] * 2
    assert data["a5"]["accessToken"] is None
    assert (await fresh(session, ada)).locked_until is not None


async def test_failed_attempts_stand_when_another_field_fails(
    gql: GraphQLClient, session: AsyncSession, ada: User
) -> None:
    # Given a document of wrong passwords ending in a field that fails as a whole (anonymous)
    extra = 'x: changePassword(input: {currentPassword: "a", newPassword: "b"}) { errors { code } }'
    response = await gql.execute(aliased_logins([WRONG] * 3, extra=extra))
    # Then the request has a top-level error, which rolls back its other writes...
    assert response.error_codes == ["UNAUTHENTICATED"]
    # ...but not the failed attempts: they were counted, and committed, one by one
    assert (await fresh(session, ada)).failed_attempts == 3
    assert (await event_types(session, ada)).count("sign_in_failed") == 3


async def test_failed_attempts_stand_when_the_rate_limit_cuts_in(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # Given ten attempts on one account already this window (the per-account limit)
    bob = await make_user(session, email="bob@example.com")
    for _ in range(10):
        await login(gql, "nobody@example.com", WRONG)
    await session.commit()
    # When a document brings three attempts on Bob and then the throttled eleventh on the other
    response = await gql.execute(
        aliased_logins([WRONG] * 3, login_name="bob@example.com")
        .removesuffix(" }")
        + f' z: login(input: {{login: "nobody@example.com", password: "{WRONG}"}}) {{ {LOGIN_FIELDS} }} }}'
    )
    # Then the throttled one is a top-level error, and Bob's three failures still count
    assert response.error_codes == ["RATE_LIMITED"]
    assert (await fresh(session, bob)).failed_attempts == 3


async def test_a_batch_of_operations_is_refused_and_counts_nothing(
    gql: GraphQLClient, session: AsyncSession, ada: User
) -> None:
    # Batching is off: operations of one batch would share one unit of work and run concurrently
    operation = {"query": aliased_logins([WRONG])}
    response = await gql.post([operation] * 5)
    assert response.status_code == 400
    assert (await fresh(session, ada)).failed_attempts == 0


@pytest.mark.postgres
@pytest.mark.committed
async def test_parallel_wrong_passwords_each_count_once(committed_runtime: Runtime) -> None:
    # Given an account, and eight wrong passwords sent at the same moment as separate requests
    async with committed_runtime.database.sessions() as setup:
        ada = await make_user(setup)
    client = GraphQLClient(create_app(runtime=committed_runtime))
    try:
        results = await asyncio.gather(*(login(client, "ada@example.com", WRONG) for _ in range(8)))
    finally:
        await client.aclose()
    # Then exactly four were plain failures and the fifth locked: no count was lost or doubled
    codes = sorted(errors_of(result)[0] for result in results)
    assert codes == ["ACCOUNT_LOCKED"] * 4 + ["INVALID_CREDENTIALS"] * 4
    async with committed_runtime.database.sessions() as check:
        assert (await fresh(check, ada)).locked_until is not None
        events = await event_types(check, ada)
        assert events.count("sign_in_failed") == 5
        assert events.count("locked_out") == 1
        assert events.count("sign_in_while_locked") == 3
