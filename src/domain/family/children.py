"""Children: a parent adds a CHILD user, edits or removes them, and resets their password.

A child is an ordinary user of role CHILD (accounts creates it and signs it in with its
username); `family_children` ties it to the parent who added it and to its POINTS account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from db.models.family import FamilyChild
from domain.accounts import passwords, security_events, sessions, users
from domain.accounts.security_events import EventType
from domain.actor import Actor, Role
from domain.errors import DomainError, Validator
from domain.family import points
from domain.family.errors import FamilyCode, as_family_problems, not_found, refuse
from domain.family.policies import managed_children, visible_children
from tally.clock import clock

OLDEST_BIRTHDAY = date(1900, 1, 1)


@dataclass(frozen=True)
class NewChild:
    name: str
    username: str
    password: str
    birthday: date | None = None


@dataclass(frozen=True)
class ChildChanges:
    child_id: uuid.UUID | None
    # None: unchanged.
    name: str | None = None
    # Only looked at when `set_birthday`; then None clears it.
    birthday: date | None = None
    set_birthday: bool = False


def _check_birthday(check: Validator, birthday: date | None) -> None:
    if birthday is not None:
        check.check(OLDEST_BIRTHDAY <= birthday <= clock.now().date(), "birthday", "Give a birthday in the past.")


async def load_child(session: AsyncSession, actor: Actor, child_id: uuid.UUID | None) -> FamilyChild | None:
    """The child as the database has it now, if `actor` may see it."""
    if child_id is None:
        return None
    return await session.scalar(
        select(FamilyChild)
        .where(FamilyChild.user_id == child_id, visible_children(actor))
        .execution_options(populate_existing=True)
    )


async def managed_child(
    session: AsyncSession, actor: Actor, child_id: uuid.UUID | None, field: str = "childId", lock: bool = False
) -> FamilyChild:
    """One of the actor's own children, or NOT_FOUND (another family's child does not exist)."""
    if child_id is None:
        raise not_found("child", field)
    query = select(FamilyChild).where(FamilyChild.user_id == child_id, managed_children(actor))
    if lock:
        query = query.with_for_update(of=FamilyChild)
    child = await session.scalar(query.execution_options(populate_existing=True))
    if child is None:
        raise not_found("child", field)
    return child


async def add_child(session: AsyncSession, actor: Actor, data: NewChild) -> FamilyChild:
    check = Validator()
    _check_birthday(check, data.birthday)
    try:
        # create_user checks every field at once; the birthday's problem joins them.
        user = await users.create_user(
            session,
            users.NewUser(name=data.name, password=data.password, username=data.username, role=Role.CHILD),
        )
    except DomainError as refused:
        raise DomainError(*check.problems, *as_family_problems(refused).problems) from None
    check.raise_if_any()
    account = await points.user_points_account(session, user.id)
    session.add(
        FamilyChild(user_id=user.id, parent_id=actor.user_id, birthday=data.birthday, points_account_id=account.id)
    )
    await session.flush()
    return await managed_child(session, actor, user.id)


async def update_child(session: AsyncSession, actor: Actor, data: ChildChanges) -> FamilyChild:
    child = await managed_child(session, actor, data.child_id)
    check = Validator()
    name = data.name.strip() if data.name is not None else None
    if name is not None:
        check.check(0 < len(name) <= users.MAX_NAME, "name", f"Give a name of 1 to {users.MAX_NAME} characters.")
    if data.set_birthday:
        _check_birthday(check, data.birthday)
    check.raise_if_any()
    if name is not None:
        user = await session.get(User, child.user_id)
        assert user is not None, "a family row's user is deleted with it"
        user.name = name
    if data.set_birthday:
        child.birthday = data.birthday
    await session.flush()
    return await managed_child(session, actor, child.user_id)


async def reset_child_password(
    session: AsyncSession, actor: Actor, child_id: uuid.UUID | None, new_password: str
) -> FamilyChild:
    """A parent sets a new password for their child; the child's sign-ins all end."""
    child = await managed_child(session, actor, child_id)
    user = await session.get(User, child.user_id)
    assert user is not None, "a family row's user is deleted with it"
    weak = passwords.strength_problems(new_password, "newPassword", personal=(user.name, user.username))
    if weak:
        raise DomainError(*weak)
    user.password_hash = await passwords.hash_password(new_password)
    # A locked-out child (five wrong guesses) can sign in with the new password straight away.
    user.failed_attempts = 0
    user.locked_until = None
    revoked = await sessions.revoke_all(session, user.id, "password_reset_by_parent")
    security_events.record(session, EventType.PASSWORD_RESET, actor, user.id, by="parent",
                           sign_ins_revoked=len(revoked))
    await session.flush()
    return child


async def remove_child(session: AsyncSession, actor: Actor, child_id: uuid.UUID | None) -> uuid.UUID:
    """Delete the child's account and everything of theirs here; their points go back.

    The ledger keeps its history (entries are never deleted); the child's account ends at zero.
    """
    child = await managed_child(session, actor, child_id, lock=True)
    await points.return_points(session, child.user_id, child.points_account_id)
    await sessions.revoke_all(session, child.user_id, "child_removed")
    await session.flush()
    # The family rows go with the user (ON DELETE CASCADE).
    await session.execute(delete(User).where(User.id == child.user_id))
    session.expunge(child)
    return child.user_id


async def child_for_actor(session: AsyncSession, actor: Actor, child_id: uuid.UUID | None) -> FamilyChild:
    child = await load_child(session, actor, child_id)
    if child is None:
        raise refuse(FamilyCode.NOT_FOUND, "No such child.", "childId")
    return child
