"""Sign-ins: the tokens they hand out, refresh-token rotation, and revocation.

A sign-in (`sid` in its access tokens) owns a chain of refresh tokens, each good once. A spent
one presented again means two parties hold the chain (a thief and the owner), so the whole
sign-in is revoked. Revocation also stops the sign-in's access tokens: every request checks its
`sid`, cheaply through a Redis cache where there is one (`sign_in_is_active`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import RefreshToken, SignIn, User
from db.unit_of_work import after_commit
from domain.accounts import security_events, tokens
from domain.accounts.errors import AttemptRefused, Code, refuse
from domain.accounts.security_events import EventType
from domain.actor import Actor
from domain.notifications.service import notify
from tally.clock import clock
from tally.effects import publish, runtime_of

if TYPE_CHECKING:
    from tally.runtime import Runtime

log = logging.getLogger(__name__)

CACHE_PREFIX = "tally:sign-in:"
# "Active" answers are cached briefly: if a revocation's cache write is lost, the database
# decides again within this long. "Revoked" answers outlive every access token of the sign-in.
ACTIVE_CACHE_TTL = timedelta(seconds=60)
REVOKED_CACHE_TTL = tokens.ACCESS_TOKEN_LIFETIME + timedelta(minutes=1)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    sign_in_id: uuid.UUID


def _secret(session: AsyncSession) -> str:
    secret = runtime_of(session).settings.secret_key
    assert secret, "settings guarantee a secret key"
    return secret


def _new_refresh_token(session: AsyncSession, sign_in_id: uuid.UUID) -> str:
    secret = tokens.new_secret()
    session.add(
        RefreshToken(
            sign_in_id=sign_in_id,
            token_hash=tokens.digest(secret),
            created_at=clock.now(),
            expires_at=clock.now() + tokens.REFRESH_TOKEN_LIFETIME,
        )
    )
    return secret


async def start_sign_in(session: AsyncSession, actor: Actor, user: User, **details: object) -> Tokens:
    """A new signed-in device for `user`: its first refresh token and an access token."""
    await _tell_of_a_new_device(session, actor, user)
    sign_in = SignIn(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=clock.now(),
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:400] or None,
    )
    session.add(sign_in)
    await session.flush()
    refresh = _new_refresh_token(session, sign_in.id)
    access = tokens.issue_access_token(_secret(session), user.id, user.role, sign_in.id)
    security_events.record(session, EventType.SIGNED_IN, actor, user.id, sign_in_id=str(sign_in.id), **details)
    await session.flush()
    return Tokens(access.token, access.expires_at, refresh, sign_in.id)


async def _tell_of_a_new_device(session: AsyncSession, actor: Actor, user: User) -> None:
    """Notify (in-app and by email) a sign-in from a device this account has not used before.

    A device is known by its user agent. The very first sign-in (registration) is no news.
    """
    user_agent = (actor.user_agent or "")[:400] or None
    same_device = SignIn.user_agent == user_agent if user_agent else SignIn.user_agent.is_(None)
    any_before, this_device_before = (
        await session.execute(
            select(
                exists().where(SignIn.user_id == user.id),
                exists().where(SignIn.user_id == user.id, same_device),
            )
        )
    ).one()
    if not any_before or this_device_before:
        return
    where = f" from {actor.ip}" if actor.ip else ""
    await notify(
        session,
        user.id,
        type="security.new_sign_in",
        title="New sign-in to your account",
        message=f"Your account was signed in on a new device ({user_agent or 'unknown device'}){where}. "
        "If this was not you, change your password.",
        style="MODAL",
        data={"ip": actor.ip, "userAgent": user_agent},
    )


async def _find(session: AsyncSession, refresh_token: str) -> tuple[RefreshToken, SignIn] | None:
    row = (
        await session.execute(
            select(RefreshToken, SignIn)
            .join(SignIn, SignIn.id == RefreshToken.sign_in_id)
            .where(RefreshToken.token_hash == tokens.digest(refresh_token))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def refresh(session: AsyncSession, actor: Actor, refresh_token: str) -> Tokens:
    invalid = refuse(Code.INVALID_TOKEN, "This refresh token is not valid; sign in again.", "refreshToken")
    found = await _find(session, refresh_token)
    if found is None:
        raise invalid
    token, sign_in = found
    if sign_in.revoked_at is not None or token.expires_at <= clock.now():
        raise invalid
    # Spend it atomically: of two requests presenting it at once, exactly one gets through.
    spent = await session.scalar(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=clock.now())
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    if spent is None:
        await revoke(session, [sign_in.id], "refresh_token_reused")
        security_events.record(
            session, EventType.REFRESH_TOKEN_REUSED, actor, sign_in.user_id, sign_in_id=str(sign_in.id)
        )
        await session.flush()
        raise AttemptRefused.of(Code.INVALID_TOKEN, "This refresh token was already used; sign in again.",
                                "refreshToken")
    user = await session.get(User, sign_in.user_id)
    if user is None:
        raise invalid
    new_refresh = _new_refresh_token(session, sign_in.id)
    access = tokens.issue_access_token(_secret(session), user.id, user.role, sign_in.id)
    await session.flush()
    return Tokens(access.token, access.expires_at, new_refresh, sign_in.id)


async def logout(session: AsyncSession, actor: Actor, refresh_token: str) -> None:
    found = await _find(session, refresh_token)
    if found is None:
        raise refuse(Code.INVALID_TOKEN, "This refresh token is not valid.", "refreshToken")
    _, sign_in = found
    if sign_in.revoked_at is None:
        await revoke(session, [sign_in.id], "logout")
        security_events.record(session, EventType.SIGNED_OUT, actor, sign_in.user_id, sign_in_id=str(sign_in.id))
        await session.flush()


async def revoke(session: AsyncSession, sign_in_ids: Iterable[uuid.UUID], reason: str) -> None:
    ids = list(sign_in_ids)
    if not ids:
        return
    revoked = (
        await session.execute(
            update(SignIn)
            .where(SignIn.id.in_(ids), SignIn.revoked_at.is_(None))
            .values(revoked_at=clock.now(), revoked_reason=reason)
            .returning(SignIn.id, SignIn.user_id)
            .execution_options(synchronize_session="fetch")
        )
    ).all()
    for sign_in_id, user_id in revoked:
        # Live connections of this sign-in end at once (graph.subscriptions watches this).
        publish(session, f"user:{user_id}", {"kind": "session_revoked", "signInId": str(sign_in_id)})
    runtime = runtime_of(session)

    async def _forget() -> None:
        await mark_revoked(runtime, ids)

    after_commit(session, _forget)


async def revoke_all(
    session: AsyncSession, user_id: uuid.UUID, reason: str, keep: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Revoke every active sign-in of `user_id` (but `keep`, the caller's own, when given)."""
    query = select(SignIn.id).where(SignIn.user_id == user_id, SignIn.revoked_at.is_(None))
    if keep is not None:
        query = query.where(SignIn.id != keep)
    ids = list((await session.scalars(query)).all())
    await revoke(session, ids, reason)
    return ids


async def mark_revoked(runtime: Runtime, sign_in_ids: Iterable[uuid.UUID]) -> None:
    if runtime.redis is None:
        return
    ttl = int(REVOKED_CACHE_TTL.total_seconds())
    async with runtime.redis.pipeline(transaction=False) as pipe:
        for sign_in_id in sign_in_ids:
            pipe.set(f"{CACHE_PREFIX}{sign_in_id}", b"0", ex=ttl)
        await pipe.execute()


async def _active_in_database(runtime: Runtime, sign_in_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    async with runtime.database.sessions() as session:
        found = await session.scalar(
            select(SignIn.id).where(SignIn.id == sign_in_id, SignIn.user_id == user_id, SignIn.revoked_at.is_(None))
        )
    return found is not None


async def sign_in_is_active(runtime: Runtime, sign_in_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Is this sign-in still valid? Redis answers most requests; the database the rest."""
    key = f"{CACHE_PREFIX}{sign_in_id}"
    if runtime.redis is not None:
        try:
            cached = await runtime.redis.get(key)
        except RedisError:
            log.warning("revocation cache unavailable; asking the database")
            cached = None
        if cached is not None:
            return cached == b"1"
    active = await _active_in_database(runtime, sign_in_id, user_id)
    if runtime.redis is not None:
        try:
            if active:
                # NX: never overwrite a revocation written meanwhile.
                await runtime.redis.set(key, b"1", ex=int(ACTIVE_CACHE_TTL.total_seconds()), nx=True)
            else:
                await runtime.redis.set(key, b"0", ex=int(REVOKED_CACHE_TTL.total_seconds()))
        except RedisError:
            log.warning("revocation cache unavailable; not caching")
    return active
