"""Changing one's password while signed in: the current one first, then every other sign-in ends."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts import passwords, rate_limits, security_events, sessions
from domain.accounts.errors import Code, refuse
from domain.accounts.security_events import EventType
from domain.actor import Actor
from domain.errors import DomainError, NotFound


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str


async def change_password(session: AsyncSession, actor: Actor, data: ChangePassword) -> User:
    # A stolen access token must not become a way to guess the password without limit.
    await rate_limits.hit_for(session, (rate_limits.PASSWORD_CHECK_PER_ACCOUNT, str(actor.user_id)))
    user = await session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise NotFound("user")
    if not await passwords.verify_password(user.password_hash, data.current_password):
        raise refuse(Code.INVALID_CREDENTIALS, "The current password is not right.", "currentPassword")
    weak = passwords.strength_problems(
        data.new_password, "newPassword", personal=(user.email, user.name, user.username)
    )
    if weak:
        raise DomainError(*weak)
    if data.new_password == data.current_password:
        raise refuse(Code.INVALID, "Choose a password different from the current one.", "newPassword")
    user.password_hash = await passwords.hash_password(data.new_password)
    revoked = await sessions.revoke_all(session, user.id, "password_changed", keep=actor.session_id)
    security_events.record(session, EventType.PASSWORD_CHANGED, actor, user.id, sign_ins_revoked=len(revoked))
    await session.flush()
    return user
