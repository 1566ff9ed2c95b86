"""Users: the rules of a valid account, lookups by login, and creation.

`create_user` is the one way an account comes to exist: registration uses it for adults, and
the family domain for children (role CHILD, a username and no email).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from domain.accounts import passwords
from domain.accounts.errors import Code
from domain.actor import Role
from domain.errors import DomainError, Problem, Validator

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164 once spaces, dashes and brackets are gone
MAX_NAME = 200


@dataclass(frozen=True)
class NewUser:
    name: str
    password: str
    email: str | None = None
    username: str | None = None
    phone: str | None = None
    role: Role = Role.MEMBER


def clean_phone(phone: str) -> str:
    return re.sub(r"[\s().-]", "", phone)


def _login_key(login: str) -> str:
    return login.strip().lower()


async def find_by_login(session: AsyncSession, login: str) -> User | None:
    """An email finds an adult, anything else a child's username; case does not matter."""
    key = _login_key(login)
    if not key:
        return None
    column = User.email if "@" in key else User.username
    return await session.scalar(select(User).where(func.lower(column) == key))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def _taken(session: AsyncSession, column: object, value: str) -> bool:
    found = await session.scalar(select(User.id).where(func.lower(column) == _login_key(value)).limit(1))
    return found is not None


async def create_user(session: AsyncSession, data: NewUser) -> User:
    check = Validator()
    name = data.name.strip()
    email = data.email.strip() if data.email is not None else None
    username = data.username.strip() if data.username is not None else None
    phone = clean_phone(data.phone) if data.phone else None
    check.check(0 < len(name) <= MAX_NAME, "name", f"Give a name of 1 to {MAX_NAME} characters.")
    if email is not None:
        check.check(len(email) <= 254 and bool(EMAIL.match(email)), "email", "This is not an email address.")
    if username is not None:
        check.check(bool(USERNAME.match(username)), "username",
                    "Use 3 to 32 letters, digits, dots, dashes or underscores.")
    check.check(email is not None or username is not None, "email", "An account needs an email or a username.")
    if phone is not None:
        check.check(bool(PHONE.match(phone)), "phone", "Give the phone number with its country code, like +44…")
    check.problems += passwords.strength_problems(data.password, "password", personal=(email, name, username))
    check.raise_if_any()

    taken: list[Problem] = []
    if email is not None and await _taken(session, User.email, email):
        taken.append(Problem(Code.EMAIL_TAKEN.value, "An account with this email exists.", "email"))
    if username is not None and await _taken(session, User.username, username):
        taken.append(Problem(Code.USERNAME_TAKEN.value, "This username is taken.", "username"))
    if taken:
        raise DomainError(*taken)

    user = User(
        email=email,
        username=username,
        name=name,
        phone=phone,
        role=data.role.value,
        password_hash=await passwords.hash_password(data.password),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two sign-ups with one login at the same moment: the unique index decides.
        if "username" in str(exc.orig):
            raise DomainError(Problem(Code.USERNAME_TAKEN.value, "This username is taken.", "username")) from None
        raise DomainError(Problem(Code.EMAIL_TAKEN.value, "An account with this email exists.", "email")) from None
    return user
