"""Signing up, and confirming the email address with the link sent then."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts import delivery, link_tokens, rate_limits, security_events, sessions, users
from domain.accounts.errors import Code, refuse
from domain.accounts.link_tokens import Purpose
from domain.accounts.security_events import EventType
from domain.actor import Actor, Role
from tally.clock import clock

# The web client's page that posts the token to `verifyEmail`; relative until a setting names the site.
VERIFY_PATH = "/verify-email?token="


@dataclass(frozen=True)
class Register:
    email: str
    password: str
    name: str
    phone: str | None = None


@dataclass(frozen=True)
class Registered:
    user: User
    tokens: sessions.Tokens


async def register(session: AsyncSession, actor: Actor, data: Register) -> Registered:
    await rate_limits.hit_for(
        session,
        (rate_limits.REGISTER_PER_IP, actor.ip),
        (rate_limits.REGISTER_PER_ACCOUNT, data.email.strip().lower()),
    )
    user = await users.create_user(
        session,
        users.NewUser(name=data.name, password=data.password, email=data.email, phone=data.phone, role=Role.MEMBER),
    )
    security_events.record(session, EventType.REGISTERED, actor, user.id)
    await send_verification(session, user)
    tokens = await sessions.start_sign_in(session, actor, user, method="registration")
    return Registered(user=user, tokens=tokens)


async def send_verification(session: AsyncSession, user: User) -> None:
    if not user.email:
        return
    token = link_tokens.issue(session, user.id, Purpose.VERIFY_EMAIL)
    await delivery.send(
        session,
        delivery.Message(
            "email",
            user.email,
            "verify_email",
            f"Welcome to Tally, {user.name}. Confirm your email address: {VERIFY_PATH}{token}",
            subject="Confirm your email address",
            data={"token": token},
        ),
    )


async def verify_email(session: AsyncSession, actor: Actor, token: str) -> User:
    found = await link_tokens.find_valid(session, token, Purpose.VERIFY_EMAIL)
    user = await session.get(User, found.user_id)
    if user is None:
        raise refuse(Code.INVALID_TOKEN, "This link is not valid any more; ask for a new one.", "token")
    await link_tokens.use(session, found)
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
        security_events.record(session, EventType.EMAIL_VERIFIED, actor, user.id)
    await session.flush()
    return user
