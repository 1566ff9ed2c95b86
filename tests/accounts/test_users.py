"""The users service: children with usernames (for the family domain), and uniqueness in the database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts.users import NewUser, create_user, find_by_login
from domain.actor import Role
from domain.errors import DomainError
from tests.accounts.conftest import hash_of, make_user


async def test_a_child_account_has_a_username_and_no_email(session: AsyncSession) -> None:
    child = await create_user(
        session, NewUser(name="Kit", password="a long secret phrase", username="kit.1", role=Role.CHILD)
    )
    assert (child.email, child.username, child.role) == (None, "kit.1", "CHILD")
    assert await find_by_login(session, "KIT.1") is child


async def test_a_username_is_unique_whatever_its_case(session: AsyncSession) -> None:
    await make_user(session, email=None, username="kit", role=Role.CHILD)
    with pytest.raises(DomainError) as refused:
        await create_user(session, NewUser(name="Kit", password="a long secret phrase", username="KIT",
                                           role=Role.CHILD))
    assert [(p.code, p.field) for p in refused.value.problems] == [("USERNAME_TAKEN", "username")]


async def test_a_bad_username_is_invalid(session: AsyncSession) -> None:
    with pytest.raises(DomainError) as refused:
        await create_user(session, NewUser(name="Kit", password="a long secret phrase", username="k!"))
    assert [(p.code, p.field) for p in refused.value.problems] == [("INVALID", "username")]


@pytest.mark.parametrize(("first", "second"), [("ada@example.com", "ADA@example.com")])
async def test_the_database_refuses_one_email_in_two_cases(session: AsyncSession, first: str, second: str) -> None:
    # The unique index on lower(email) holds even if a check is skipped (a race between two sign-ups)
    session.add(User(email=first, name="A", password_hash=hash_of("x"), role="MEMBER"))
    await session.flush()
    session.add(User(email=second, name="B", password_hash=hash_of("x"), role="MEMBER"))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()


async def test_an_account_needs_an_email_or_a_username(session: AsyncSession) -> None:
    with pytest.raises(DomainError) as refused:
        await create_user(session, NewUser(name="Nobody", password="a long secret phrase"))
    assert refused.value.code == "INVALID"
