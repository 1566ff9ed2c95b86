"""Signing in: password (with lockout and rehash), then tokens or a two-factor challenge.

Failed attempts raise `AttemptRefused`: the count, the lock and the audit event they wrote must
outlive the refusal, or an attacker could retry for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import OtpChallenge, User
from domain.accounts import lockout, passwords, rate_limits, security_events, sessions, two_factor, users
from domain.accounts.errors import AttemptRefused, Code, refuse
from domain.accounts.security_events import EventType
from domain.actor import Actor


@dataclass(frozen=True)
class Login:
    login: str
    password: str
    device_token: str | None = None


@dataclass(frozen=True)
class VerifyOtp:
    challenge_id: str
    code: str
    trust_device: bool = False


@dataclass(frozen=True)
class SignInResult:
    user: User
    tokens: sessions.Tokens | None = None
    challenge: OtpChallenge | None = None
    device_token: str | None = None


def _locked(until: datetime | None) -> AttemptRefused:
    when = f"until {until:%H:%M} UTC" if until else "for now"
    return AttemptRefused.of(Code.ACCOUNT_LOCKED, f"Too many wrong passwords: this account is locked {when}.")


async def login(session: AsyncSession, actor: Actor, data: Login) -> SignInResult:
    await rate_limits.hit_for(
        session,
        (rate_limits.LOGIN_PER_IP, actor.ip),
        (rate_limits.LOGIN_PER_ACCOUNT, data.login.strip().lower()),
    )
    # Unknown login and wrong password: one answer, one cost (a dummy hash is verified).
    invalid = AttemptRefused.of(Code.INVALID_CREDENTIALS, "The login or the password is not right.")
    user = await users.find_by_login(session, data.login)
    if user is None:
        await passwords.verify_password(None, data.password)
        security_events.record(session, EventType.SIGN_IN_FAILED, actor, None, reason="unknown_login")
        await session.flush()
        raise invalid
    if lockout.is_locked(user):
        security_events.record(session, EventType.SIGN_IN_WHILE_LOCKED, actor, user.id)
        await session.flush()
        raise _locked(user.locked_until)
    if not await passwords.verify_password(user.password_hash, data.password):
        failure = await lockout.record_failure(session, user.id)
        if failure.already_locked:
            security_events.record(session, EventType.SIGN_IN_WHILE_LOCKED, actor, user.id)
            await session.flush()
            raise _locked(failure.locked_until)
        security_events.record(
            session, EventType.SIGN_IN_FAILED, actor, user.id, reason="wrong_password",
            failed_attempts=failure.failed_attempts,
        )
        if failure.locked_now:
            security_events.record(
                session, EventType.LOCKED_OUT, actor, user.id, locked_until=str(failure.locked_until)
            )
            await session.flush()
            raise _locked(failure.locked_until)
        await session.flush()
        raise invalid
    if not await lockout.record_success(session, user.id):
        # Locked by a parallel attempt while this password was being checked.
        await session.refresh(user)
        security_events.record(session, EventType.SIGN_IN_WHILE_LOCKED, actor, user.id)
        await session.flush()
        raise _locked(user.locked_until)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(data.password)
        security_events.record(session, EventType.PASSWORD_REHASHED, actor, user.id)
    if user.two_factor_channel and not await two_factor.is_trusted(session, user.id, data.device_token):
        challenge = await two_factor.start_challenge(session, actor, user)
        return SignInResult(user=user, challenge=challenge)
    tokens = await sessions.start_sign_in(session, actor, user, method="password")
    return SignInResult(user=user, tokens=tokens)


async def verify_otp(session: AsyncSession, actor: Actor, data: VerifyOtp) -> SignInResult:
    challenge = await two_factor.find_challenge(session, data.challenge_id)
    await rate_limits.hit_for(
        session,
        (rate_limits.OTP_PER_IP, actor.ip),
        (rate_limits.OTP_PER_ACCOUNT, str(challenge.user_id) if challenge else data.challenge_id),
    )
    if challenge is None:
        raise refuse(Code.NOT_FOUND, "No such sign-in challenge.", "challengeId")
    await two_factor.check_code(session, actor, challenge, data.code)
    user = await session.get(User, challenge.user_id)
    if user is None:
        raise refuse(Code.NOT_FOUND, "No such sign-in challenge.", "challengeId")
    device_token = await two_factor.trust_device(session, actor, user.id) if data.trust_device else None
    tokens = await sessions.start_sign_in(session, actor, user, method="otp")
    return SignInResult(user=user, tokens=tokens, device_token=device_token)
