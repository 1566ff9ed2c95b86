"""Two-factor: a code instead of tokens on an untrusted device, three tries, five minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import OtpChallenge, SignIn, User
from domain.accounts.two_factor import OTP_LIFETIME, TRUSTED_DEVICE_LIFETIME
from tests.accounts.conftest import (
    PASSWORD,
    Outbox,
    count,
    errors_of,
    event_types,
    fresh,
    login,
    make_person,
    make_user,
)
from tests.support.client import GraphQLClient


async def enable(gql: GraphQLClient, token: str, **fields: object) -> dict:
    response = await gql.contract("accounts", "EnableTwoFactor", {"input": fields}, token=token)
    return response.ok()["enableTwoFactor"]


async def verify(gql: GraphQLClient, challenge_id: str, code: str, **extra: object) -> dict:
    variables = {"input": {"challengeId": challenge_id, "code": code, **extra}}
    return (await gql.contract("accounts", "VerifyOtp", variables)).ok()["verifyOtp"]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
async def guarded(session: AsyncSession) -> User:
    """Ada, with email codes on."""
    return await make_user(session, two_factor="EMAIL")


async def test_enable_two_factor_by_email(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    payload = await enable(gql, ada.token, channel="EMAIL")
    assert payload["errors"] == []
    assert payload["user"]["twoFactorEnabled"] is True
    assert (await fresh(session, ada.user)).two_factor_channel == "EMAIL"
    assert "two_factor_enabled" in await event_types(session, ada.user)


async def test_sms_needs_a_phone(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    # Without a phone it is refused, and nothing changes
    payload = await enable(gql, ada.token, channel="SMS")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "phone")]
    assert (await fresh(session, ada.user)).two_factor_channel is None
    bad = await enable(gql, ada.token, channel="SMS", phone="call me")
    assert errors_of(bad) == ["INVALID"]
    # With one it is on, and the phone is kept
    payload = await enable(gql, ada.token, channel="SMS", phone="+1 (555) 010-9999")
    assert payload["errors"] == []
    user = await fresh(session, ada.user)
    assert (user.two_factor_channel, user.phone) == ("SMS", "+15550109999")


async def test_login_on_an_untrusted_device_returns_a_challenge_and_no_tokens(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    payload = await login(gql, "ada@example.com", PASSWORD)
    assert payload["errors"] == []
    assert payload["accessToken"] is None and payload["refreshToken"] is None
    assert payload["user"] is None
    challenge = payload["otpChallenge"]
    assert challenge["channel"] == "EMAIL"
    assert challenge["expiresAt"]
    # And the code went to Ada's email, stored only as a keyed hash
    code = outbox.code(to="ada@example.com")
    stored = await session.scalar(select(OtpChallenge.code_hash))
    assert stored is not None and code not in stored
    assert await count(session, SignIn) == 0


async def test_the_right_code_signs_in(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    payload = await verify(gql, challenge["id"], outbox.code())
    assert payload["errors"] == []
    assert payload["user"]["name"] == "Ada Lovelace"
    assert payload["deviceToken"] is None
    me = (await gql.contract("accounts", "Me", token=payload["accessToken"])).ok()["me"]
    assert me["twoFactorEnabled"] is True
    # And the code cannot be used again
    assert errors_of(await verify(gql, challenge["id"], outbox.code())) == ["OTP_EXPIRED"]


async def test_sms_codes_go_to_the_phone(gql: GraphQLClient, session: AsyncSession, outbox: Outbox) -> None:
    await make_user(session, two_factor="SMS", phone="+15550109999")
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    assert challenge["channel"] == "SMS"
    message = outbox.last("otp")
    assert (message["channel"], message["to"]) == ("SMS", "+15550109999")
    assert (await verify(gql, challenge["id"], outbox.code()))["errors"] == []


async def test_three_wrong_codes_void_the_challenge(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    code = outbox.code()
    # When three wrong codes are tried
    for _ in range(3):
        assert errors_of(await verify(gql, challenge["id"], wrong(code))) == ["INVALID_OTP"]
    # Then even the right one is refused: the challenge is void
    assert errors_of(await verify(gql, challenge["id"], code)) == ["OTP_EXPIRED"]
    assert await count(session, SignIn) == 0
    assert (await event_types(session, guarded)).count("otp_failed") == 3


async def test_wrong_codes_in_aliases_each_count(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    code = outbox.code()
    fields = [
        f'v{i}: verifyOtp(input: {{challengeId: "{challenge["id"]}", code: "{c}"}}) {{ accessToken errors {{ code }} }}'
        for i, c in enumerate([wrong(code)] * 3 + [code])
    ]
    data = (await gql.execute("mutation { " + " ".join(fields) + " }")).ok()
    assert [data[f"v{i}"]["errors"][0]["code"] for i in range(4)] == ["INVALID_OTP"] * 3 + ["OTP_EXPIRED"]
    assert data["v3"]["accessToken"] is None


async def test_a_code_expires_after_five_minutes(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox, clock
) -> None:
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    clock.advance(OTP_LIFETIME + timedelta(seconds=1))
    assert errors_of(await verify(gql, challenge["id"], outbox.code())) == ["OTP_EXPIRED"]


async def test_a_code_works_just_before_it_expires(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox, clock
) -> None:
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    clock.advance(OTP_LIFETIME - timedelta(seconds=5))
    assert (await verify(gql, challenge["id"], outbox.code()))["errors"] == []


async def test_an_unknown_challenge_is_not_found(gql: GraphQLClient) -> None:
    for challenge_id in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        payload = await verify(gql, challenge_id, "123456")
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "challengeId")]


async def test_a_trusted_device_skips_the_code_for_45_days(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox, clock
) -> None:
    # Given Ada trusted this device when she entered her code
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    device_token = (await verify(gql, challenge["id"], outbox.code(), trustDevice=True))["deviceToken"]
    assert device_token
    # When she signs in from it with the device token
    payload = await login(gql, "ada@example.com", PASSWORD, deviceToken=device_token)
    # Then she gets tokens straight away
    assert payload["otpChallenge"] is None and payload["accessToken"]
    # And a wrong password is still wrong
    assert errors_of(await login(gql, "ada@example.com", "not the right one", deviceToken=device_token)) == [
        "INVALID_CREDENTIALS"
    ]
    # And after 45 days the device must pass a code again
    clock.advance(TRUSTED_DEVICE_LIFETIME + timedelta(seconds=1))
    payload = await login(gql, "ada@example.com", PASSWORD, deviceToken=device_token)
    assert payload["accessToken"] is None and payload["otpChallenge"]


async def test_a_device_token_is_only_good_for_its_own_user(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    # Given Bob's trusted device token
    await make_user(session, email="bob@example.com", name="Bob", two_factor="EMAIL")
    challenge = (await login(gql, "bob@example.com", PASSWORD))["otpChallenge"]
    bobs_device = (await verify(gql, challenge["id"], outbox.code(to="bob@example.com"), trustDevice=True))[
        "deviceToken"
    ]
    # Then it does not let anyone skip Ada's code
    payload = await login(gql, "ada@example.com", PASSWORD, deviceToken=bobs_device)
    assert payload["accessToken"] is None and payload["otpChallenge"]


async def test_codes_are_rate_limited(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    # Given ten tries against Ada's challenges in this window (fresh challenges, wrong codes)
    for _ in range(5):
        challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
        for _ in range(2):
            await verify(gql, challenge["id"], wrong(outbox.code()))
    # When the eleventh comes, even with the right code
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    response = await gql.contract(
        "accounts", "VerifyOtp", {"input": {"challengeId": challenge["id"], "code": outbox.code()}}
    )
    # Then it is throttled
    assert response.error_codes == ["RATE_LIMITED"]
    assert response.errors[0]["extensions"]["retryAfter"] > 0


async def test_a_password_reset_forgets_trusted_devices(
    gql: GraphQLClient, session: AsyncSession, guarded: User, outbox: Outbox
) -> None:
    # Given a trusted device
    challenge = (await login(gql, "ada@example.com", PASSWORD))["otpChallenge"]
    device_token = (await verify(gql, challenge["id"], outbox.code(), trustDevice=True))["deviceToken"]
    # When the password is reset (whoever reset it may not be whoever trusted that device)
    await gql.contract("accounts", "RequestPasswordReset", {"input": {"email": "ada@example.com"}})
    reset = {"input": {"token": outbox.token("reset_password"), "newPassword": "a brand new passphrase"}}
    assert (await gql.contract("accounts", "ResetPassword", reset)).ok()["resetPassword"]["errors"] == []
    # Then the device must pass a code again
    payload = await login(gql, "ada@example.com", "a brand new passphrase", deviceToken=device_token)
    assert payload["accessToken"] is None and payload["otpChallenge"]
