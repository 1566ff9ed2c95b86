"""Accounts fixtures: an outbox the tests can read, users made directly, and signed-in people."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import SecurityEvent, User
from domain.accounts import passwords, sessions
from domain.actor import Actor, Role
from domain.notifications.providers import Providers
from tally.runtime import Runtime
from tests.support.client import GraphQLClient

PASSWORD = "correct horse battery"
_hashes: dict[tuple[str, int], str] = {}


def hash_of(password: str) -> str:
    """Hashing costs ~0.1 s; users made by tests share one hash per password and hasher."""
    key = (password, id(passwords.hasher))
    if key not in _hashes:
        _hashes[key] = passwords.hasher.hash(password)
    return _hashes[key]


class Outbox:
    """The messages the app sent, read back from the file:// provider's directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self, kind: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        found = []
        for path in self.directory.glob("*.json"):
            message = json.loads(path.read_text())
            if (kind is None or message["kind"] == kind) and (to is None or message["to"] == to):
                found.append(message)
        return sorted(found, key=lambda message: message["queuedAt"])

    def last(self, kind: str, to: str | None = None) -> dict[str, Any]:
        messages = self.messages(kind, to)
        assert messages, f"no {kind} message was sent" + (f" to {to}" if to else "")
        return messages[-1]

    def code(self, to: str | None = None) -> str:
        message = self.last("otp", to)
        assert re.search(r"\b\d{6}\b", message["body"])
        return message["data"]["code"]

    def token(self, kind: str, to: str | None = None) -> str:
        return self.last(kind, to)["data"]["token"]


@pytest.fixture(autouse=True)
def outbox(runtime: Runtime, tmp_path: Path) -> Outbox:
    directory = tmp_path / "outbox"
    runtime.providers = Providers(f"file://{directory}", f"file://{directory}")
    return Outbox(directory)


async def make_user(
    session: AsyncSession,
    *,
    email: str | None = "ada@example.com",
    name: str = "Ada Lovelace",
    password: str = PASSWORD,
    role: Role = Role.MEMBER,
    username: str | None = None,
    phone: str | None = None,
    two_factor: str | None = None,
) -> User:
    user = User(
        email=email,
        name=name,
        password_hash=hash_of(password),
        role=role.value,
        username=username,
        phone=phone,
        two_factor_channel=two_factor,
    )
    session.add(user)
    await session.commit()
    return user


@dataclass
class Person:
    user: User
    tokens: sessions.Tokens

    @property
    def token(self) -> str:
        return self.tokens.access_token


async def sign_in(session: AsyncSession, user: User) -> Person:
    tokens = await sessions.start_sign_in(session, Actor(ip="198.51.100.1"), user)
    await session.commit()
    return Person(user=user, tokens=tokens)


async def make_person(session: AsyncSession, **kwargs: Any) -> Person:
    return await sign_in(session, await make_user(session, **kwargs))


async def fresh(session: AsyncSession, user: User) -> User:
    """The user's row as the database has it now (not the session's cached copy)."""
    found = await session.scalar(select(User).where(User.id == user.id).execution_options(populate_existing=True))
    assert found is not None
    return found


async def event_types(session: AsyncSession, user: User | None = None) -> list[str]:
    query = select(SecurityEvent.type).order_by(SecurityEvent.created_at, SecurityEvent.id)
    if user is not None:
        query = query.where(SecurityEvent.user_id == user.id)
    return list((await session.scalars(query)).all())


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def ada(session: AsyncSession) -> User:
    return await make_user(session)


def errors_of(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def login(gql: GraphQLClient, login_name: str, password: str, **extra: Any) -> dict[str, Any]:
    response = await gql.contract("accounts", "Login", {"input": {"login": login_name, "password": password, **extra}})
    return response.ok()["login"]


@pytest.fixture
async def people(session: AsyncSession) -> AsyncIterator[dict[str, Person]]:
    """One of each kind of viewer the authorization matrix asks about."""
    yield {
        "member": await make_person(session, email="owner@example.com", name="Olive Owner"),
        "other": await make_person(session, email="other@example.com", name="Otto Other"),
        "child": await make_person(session, email=None, username="kit", name="Kit Child", role=Role.CHILD),
        "admin": await make_person(session, email="admin@example.com", name="Ann Admin", role=Role.ADMIN),
    }
