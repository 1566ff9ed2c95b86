"""Rate limits on sign-in: per account and per address, in Redis or (embedded) in memory."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import rate_limits
from domain.accounts.errors import TooManyAttempts
from tally.runtime import Runtime
from tests.accounts.conftest import PASSWORD, errors_of, login, make_user
from tests.support.client import GraphQLClient

LOGIN = "accounts", "Login"


def login_vars(login_name: str, password: str = "not the right one") -> dict:
    return {"input": {"login": login_name, "password": password}}


async def test_sign_in_is_limited_per_account(gql: GraphQLClient, session: AsyncSession, clock) -> None:
    # Given ten attempts on one account in this window (the lock takes over after five)
    await make_user(session)
    for _ in range(10):
        await login(gql, "ada@example.com", "not the right one")
    # When the eleventh comes
    response = await gql.contract(*LOGIN, login_vars("ada@example.com"))
    # Then it is throttled, with the seconds to wait in the extensions
    assert response.error_codes == ["RATE_LIMITED"]
    retry_after = response.errors[0]["extensions"]["retryAfter"]
    assert 0 < retry_after <= rate_limits.LOGIN_PER_ACCOUNT.window.total_seconds()
    assert response.data == {"login": None}
    # And once that wait is over (and the lock too), the right password signs in
    clock.advance(timedelta(minutes=31))
    assert errors_of(await login(gql, "ada@example.com", PASSWORD)) == []


async def test_the_account_limit_ignores_case_and_unknown_logins_count_alike(gql: GraphQLClient) -> None:
    for i in range(10):
        await login(gql, "Nobody@Example.com" if i % 2 else "nobody@example.com", "not the right one")
    response = await gql.contract(*LOGIN, login_vars("NOBODY@example.com"))
    assert response.error_codes == ["RATE_LIMITED"]


async def test_sign_in_is_limited_per_address(gql: GraphQLClient) -> None:
    # Given sixty attempts from one address, spread over many accounts
    for batch in range(2):
        fields = " ".join(
            f'a{i}: login(input: {{login: "p{batch}-{i}@example.com", password: "x"}}) {{ errors {{ code }} }}'
            for i in range(30)
        )
        assert (await gql.execute(f"mutation {{ {fields} }}")).errors == []
    # When one more comes, for yet another account
    response = await gql.contract(*LOGIN, login_vars("someone-new@example.com"))
    # Then it is throttled
    assert response.error_codes == ["RATE_LIMITED"]


async def test_windows_are_counted_apart(runtime: Runtime, clock) -> None:
    limit = rate_limits.Limit("test:window", 2, timedelta(minutes=1))
    await rate_limits.hit(runtime, (limit, "x"))
    await rate_limits.hit(runtime, (limit, "x"))
    try:
        await rate_limits.hit(runtime, (limit, "x"))
        raise AssertionError("the third hit should be refused")
    except TooManyAttempts as exc:
        assert 0 < exc.retry_after <= 60
    # Another subject has its own count, and the next window starts afresh
    await rate_limits.hit(runtime, (limit, "y"))
    clock.advance(timedelta(minutes=1))
    await rate_limits.hit(runtime, (limit, "x"))
