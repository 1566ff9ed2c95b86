"""Forgotten passwords: a single-use link by email, valid one hour, and the reset it allows.

The request answers the same whether or not the address has an account, so nobody learns who
has one; a reset ends every sign-in, since whoever knew the old password may hold one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts import delivery, link_tokens, passwords, rate_limits, security_events, sessions, two_factor
from domain.accounts.errors import Code, refuse
from domain.accounts.link_tokens import Purpose
from domain.accounts.security_events import EventType
from domain.accounts.users import find_by_login
from domain.actor import Actor
from domain.errors import DomainError

RESET_PATH = "/reset-password?token="


@dataclass(frozen=True)
class ResetPassword:
    token: str
    new_password: str


async def request_password_reset(session: AsyncSession, actor: Actor, email: str) -> None:
    await rate_limits.hit_for(
        session, (rate_limits.RESET_PER_IP, actor.ip), (rate_limits.RESET_PER_ACCOUNT, email.strip().lower())
    )
    user = await find_by_login(session, email) if "@" in email else None
    if user is None or not user.email:
        return
    token = link_tokens.issue(session, user.id, Purpose.RESET_PASSWORD)
    await delivery.send(
        session,
        delivery.Message(
            "email",
            user.email,
            "reset_password",
            f"Someone asked to reset your Tally password. If it was you, follow this link within an hour: "
            f"{RESET_PATH}{token}. If not, ignore this message.",
            subject="Reset your password",
            data={"token": token},
        ),
    )
    security_events.record(session, EventType.PASSWORD_RESET_REQUESTED, actor, user.id)
    await session.flush()


async def reset_password(session: AsyncSession, actor: Actor, data: ResetPassword) -> User:
    await rate_limits.hit_for(session, (rate_limits.RESET_PER_IP, actor.ip))
    found = await link_tokens.find_valid(session, data.token, Purpose.RESET_PASSWORD)
    user = await session.get(User, found.user_id)
    if user is None:
        raise refuse(Code.INVALID_TOKEN, "This link is not valid any more; ask for a new one.", "token")
    weak = passwords.strength_problems(
        data.new_password, "newPassword", personal=(user.email, user.name, user.username)
    )
    if weak:
        raise DomainError(*weak)
    await link_tokens.use(session, found)
    await link_tokens.use_all(session, user.id, Purpose.RESET_PASSWORD)
    user.password_hash = await passwords.hash_password(data.new_password)
    # Proving the mailbox is proof enough: the lockout ends too.
    user.failed_attempts = 0
    user.locked_until = None
    revoked = await sessions.revoke_all(session, user.id, "password_reset")
    await two_factor.forget_devices(session, user.id)
    security_events.record(session, EventType.PASSWORD_RESET, actor, user.id, sign_ins_revoked=len(revoked))
    await session.flush()
    return user
