"""Lockout: five wrong passwords in a row lock an account for thirty minutes.

Counting is one atomic UPDATE … RETURNING, so attempts arriving together (aliases in one
document, parallel requests) each count exactly once, and the attempt that reaches the limit
is the one that locks. The attempt that locks starts the count again from zero, so the account
is whole once the thirty minutes are over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from tally.clock import clock
from tally.effects import publish

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=30)


@dataclass(frozen=True)
class Failure:
    failed_attempts: int
    locked_until: datetime | None
    # This attempt was the fifth and locked the account.
    locked_now: bool = False
    # A parallel attempt locked it between our read and our write; this one did not count.
    already_locked: bool = False


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or clock.now())


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(User.locked_until.is_(None), User.locked_until <= now)


async def record_failure(session: AsyncSession, user_id: uuid.UUID) -> Failure:
    """Count a wrong password; lock on the fifth. An account already locked stays as it is."""
    now = clock.now()
    reaches_limit = User.failed_attempts + 1 >= MAX_FAILED_ATTEMPTS
    row = (
        await session.execute(
            update(User)
            .where(and_(User.id == user_id, _not_locked(now)))
            .values(
                failed_attempts=case((reaches_limit, 0), else_=User.failed_attempts + 1),
                locked_until=case((reaches_limit, now + LOCK_DURATION), else_=None),
            )
            .returning(User.failed_attempts, User.locked_until)
            .execution_options(synchronize_session="fetch")
        )
    ).first()
    if row is None:
        return Failure(failed_attempts=0, locked_until=now + LOCK_DURATION, already_locked=True)
    locked_until = row[1]
    if locked_until is not None:
        # Live connections of a locked account end at once (graph.subscriptions watches this).
        publish(session, f"user:{user_id}", {"kind": "account_locked"})
    return Failure(failed_attempts=row[0], locked_until=locked_until, locked_now=locked_until is not None)


async def record_success(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Reset the count after a right password; False when the account is locked (even so)."""
    now = clock.now()
    row = (
        await session.execute(
            update(User)
            .where(and_(User.id == user_id, _not_locked(now)))
            .values(failed_attempts=0, locked_until=None)
            .returning(User.id)
            .execution_options(synchronize_session="fetch")
        )
    ).first()
    return row is not None
