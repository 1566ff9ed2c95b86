"""Two-factor sign-in: one-time codes by email or SMS, and devices trusted to skip them.

A code is six digits, kept only as a keyed hash, valid five minutes; three wrong codes void the
challenge. Wrong codes are counted with one atomic UPDATE, so codes guessed in parallel cannot
exceed the three tries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import OtpChallenge, TrustedDevice, User
from domain.accounts import delivery, security_events, tokens
from domain.accounts.errors import AttemptRefused, Code, refuse
from domain.accounts.security_events import EventType
from domain.accounts.users import PHONE, clean_phone
from domain.actor import Actor
from domain.errors import NotFound
from tally.clock import clock
from tally.effects import runtime_of

OTP_LIFETIME = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 3
TRUSTED_DEVICE_LIFETIME = timedelta(days=45)


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


@dataclass(frozen=True)
class EnableTwoFactor:
    channel: Channel
    phone: str | None = None


def _secret(session: AsyncSession) -> str:
    return runtime_of(session).settings.secret_key or ""


async def enable(session: AsyncSession, actor: Actor, data: EnableTwoFactor) -> User:
    user = await session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise NotFound("user")
    if data.channel is Channel.EMAIL and not user.email:
        raise refuse(Code.INVALID, "This account has no email address to send codes to.", "channel")
    phone = clean_phone(data.phone) if data.phone else None
    if data.channel is Channel.SMS:
        if phone is None:
            raise refuse(Code.INVALID, "Give the phone number to send codes to.", "phone")
        if not PHONE.match(phone):
            raise refuse(Code.INVALID, "Give the phone number with its country code, like +44…", "phone")
        user.phone = phone
    user.two_factor_channel = data.channel.value
    security_events.record(session, EventType.TWO_FACTOR_ENABLED, actor, user.id, channel=data.channel.value)
    await session.flush()
    return user


async def start_challenge(session: AsyncSession, actor: Actor, user: User) -> OtpChallenge:
    """A fresh code for `user`, sent on their channel once the transaction commits."""
    channel = Channel(user.two_factor_channel or Channel.EMAIL)
    code = tokens.new_code()
    challenge_id = uuid.uuid4()
    challenge = OtpChallenge(
        id=challenge_id,
        user_id=user.id,
        channel=channel.value,
        code_hash=tokens.code_digest(_secret(session), challenge_id, code),
        created_at=clock.now(),
        expires_at=clock.now() + OTP_LIFETIME,
        attempts=0,
    )
    session.add(challenge)
    text = f"Your Tally sign-in code is {code}. It expires in {int(OTP_LIFETIME.total_seconds() // 60)} minutes."
    if channel is Channel.SMS and user.phone:
        await delivery.send(session, delivery.Message("sms", user.phone, "otp", text, data={"code": code}))
    else:
        await delivery.send(
            session,
            delivery.Message("email", user.email or "", "otp", text, subject="Your sign-in code", data={"code": code}),
        )
    security_events.record(session, EventType.OTP_SENT, actor, user.id, channel=channel.value)
    await session.flush()
    return challenge


async def find_challenge(session: AsyncSession, challenge_id: str) -> OtpChallenge | None:
    try:
        key = uuid.UUID(challenge_id)
    except ValueError:
        return None
    return await session.get(OtpChallenge, key)


async def check_code(session: AsyncSession, actor: Actor, challenge: OtpChallenge, code: str) -> None:
    """Consume the challenge with the right code, or count a wrong one (and keep that count)."""
    now = clock.now()
    expired = refuse(Code.OTP_EXPIRED, "This code has expired; sign in again for a new one.", "code")
    if challenge.consumed_at is not None or challenge.attempts >= OTP_MAX_ATTEMPTS or challenge.expires_at <= now:
        raise expired
    expected = tokens.code_digest(_secret(session), challenge.id, code.strip())
    if not tokens.same(expected, challenge.code_hash):
        await session.execute(
            update(OtpChallenge)
            .where(OtpChallenge.id == challenge.id, OtpChallenge.attempts < OTP_MAX_ATTEMPTS)
            .values(attempts=OtpChallenge.attempts + 1)
            .execution_options(synchronize_session="fetch")
        )
        security_events.record(session, EventType.OTP_FAILED, actor, challenge.user_id)
        await session.flush()
        raise AttemptRefused.of(Code.INVALID_OTP, "This code is not right.", "code")
    consumed = await session.scalar(
        update(OtpChallenge)
        .where(
            OtpChallenge.id == challenge.id,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.attempts < OTP_MAX_ATTEMPTS,
            OtpChallenge.expires_at > now,
        )
        .values(consumed_at=now)
        .returning(OtpChallenge.id)
        .execution_options(synchronize_session="fetch")
    )
    if consumed is None:
        raise expired


async def trust_device(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> str:
    device_token = tokens.new_secret()
    session.add(
        TrustedDevice(
            user_id=user_id,
            token_hash=tokens.digest(device_token),
            created_at=clock.now(),
            expires_at=clock.now() + TRUSTED_DEVICE_LIFETIME,
        )
    )
    security_events.record(session, EventType.DEVICE_TRUSTED, actor, user_id)
    await session.flush()
    return device_token


async def is_trusted(session: AsyncSession, user_id: uuid.UUID, device_token: str | None) -> bool:
    if not device_token:
        return False
    found = await session.scalar(
        select(TrustedDevice.id).where(
            TrustedDevice.token_hash == tokens.digest(device_token),
            TrustedDevice.user_id == user_id,
            TrustedDevice.revoked_at.is_(None),
            TrustedDevice.expires_at > clock.now(),
        )
    )
    return found is not None


async def forget_devices(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(TrustedDevice)
        .where(TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
