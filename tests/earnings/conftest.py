"""Earnings fixtures: signed-in freelancers, and platforms, earnings and goals made directly."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.models.accounts import User
from db.models.earnings import Earning, EarningsProfile, Goal, Platform
from domain.actor import Role
from tally.clock import clock
from tests.accounts.conftest import Person, make_person, people  # noqa: F401 - `people` is a fixture
from tests.support.client import GraphQLClient


@pytest.fixture
async def fran(session: AsyncSession) -> Person:
    """A freelancer, signed in."""
    return await make_person(session, email="fran@example.com", name="Fran Freelancer")


@pytest.fixture
async def otto(session: AsyncSession) -> Person:
    """Another freelancer."""
    return await make_person(session, email="otto@example.com", name="Otto Other")


def gid(type_name: str, raw_id: uuid.UUID | str) -> str:
    return relay.to_base64(type_name, raw_id)


def raw_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


async def set_profile(
    session: AsyncSession, user: User, *, plan: str = "FREE", currency: str = "USD", timezone: str = "UTC"
) -> EarningsProfile:
    profile = await session.get(EarningsProfile, user.id)
    if profile is None:
        profile = EarningsProfile(user_id=user.id)
        session.add(profile)
    profile.plan, profile.default_currency, profile.timezone = plan, currency, timezone
    await session.commit()
    return profile


async def add_platform(
    session: AsyncSession, user: User, name: str = "Upwork", *, color: str = "#112233", archived: bool = False,
    category: str | None = None,
) -> Platform:
    platform = Platform(user_id=user.id, name=name, color=color, category=category,
                        archived_at=clock.now() if archived else None)
    session.add(platform)
    await session.commit()
    return platform


async def add_earning(
    session: AsyncSession, platform: Platform, day: date, amount_minor: int, currency: str = "USD",
    hours_centi: int | None = None, notes: str | None = None, commit: bool = True,
) -> Earning:
    earning = Earning(user_id=platform.user_id, platform_id=platform.id, date=day, amount_minor=amount_minor,
                      currency=currency, hours_centi=hours_centi, notes=notes)
    session.add(earning)
    if commit:
        await session.commit()
    return earning


async def add_goal(
    session: AsyncSession, user: User, target_minor: int, starts_on: date, deadline: date, *,
    currency: str = "USD", title: str = "Save up", status: str = "ACTIVE",
) -> Goal:
    goal = Goal(user_id=user.id, title=title, target_minor=target_minor, currency=currency, starts_on=starts_on,
                deadline=deadline, status=status)
    session.add(goal)
    await session.commit()
    return goal


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(field, code) of each error in a mutation payload."""
    return [(error["field"], error["code"]) for error in payload["errors"]]


async def create_platform(gql: GraphQLClient, person: Person, **fields: Any) -> dict[str, Any]:
    response = await gql.contract("earnings", "CreatePlatform", {"input": {"name": "Upwork", **fields}},
                                  token=person.token)
    return response.ok()["createPlatform"]


async def record(gql: GraphQLClient, person: Person, platform: Platform | str, **fields: Any) -> dict[str, Any]:
    platform_id = platform if isinstance(platform, str) else gid("Platform", platform.id)
    today = clock.now().date().isoformat()
    variables = {"input": {"platformId": platform_id, "date": today, "amount": "100.00", **fields}}
    response = await gql.contract("earnings", "RecordEarning", variables, token=person.token)
    return response.ok()["recordEarning"]


__all__ = ["Role"]
