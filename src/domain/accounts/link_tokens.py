"""Single-use tokens sent by email: verify an address, reset a password."""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import AccountToken
from domain.accounts import tokens
from domain.accounts.errors import Code, refuse
from tally.clock import clock


class Purpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


LIFETIMES = {Purpose.VERIFY_EMAIL: timedelta(days=3), Purpose.RESET_PASSWORD: timedelta(hours=1)}


def issue(session: AsyncSession, user_id: uuid.UUID, purpose: Purpose) -> str:
    token = tokens.new_secret()
    session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose.value,
            token_hash=tokens.digest(token),
            created_at=clock.now(),
            expires_at=clock.now() + LIFETIMES[purpose],
        )
    )
    return token


async def find_valid(session: AsyncSession, token: str, purpose: Purpose) -> AccountToken:
    """The unused, unexpired token, or INVALID_TOKEN (unknown, used and expired look alike)."""
    found = await session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == tokens.digest(token.strip()), AccountToken.purpose == purpose.value
        )
    )
    if found is None or found.used_at is not None or found.expires_at <= clock.now():
        raise refuse(Code.INVALID_TOKEN, "This link is not valid any more; ask for a new one.", "token")
    return found


async def use(session: AsyncSession, token: AccountToken) -> None:
    """Spend it, atomically: of two requests with one token, only one goes through."""
    spent = await session.scalar(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=clock.now())
        .returning(AccountToken.id)
        .execution_options(synchronize_session="fetch")
    )
    if spent is None:
        raise refuse(Code.INVALID_TOKEN, "This link is not valid any more; ask for a new one.", "token")


async def use_all(session: AsyncSession, user_id: uuid.UUID, purpose: Purpose) -> None:
    await session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose.value, AccountToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
