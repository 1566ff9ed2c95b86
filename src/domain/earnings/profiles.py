"""A user's earnings settings: default currency, timezone and plan.

The row is written on first change only; until then a user has the defaults. The timezone
decides what "today" is for that user: how far ahead an earning may be dated, when a goal
starts and when its deadline has passed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import EarningsProfile
from domain.actor import Actor
from domain.earnings.policies import owner_of
from domain.errors import Validator
from domain.money import MoneyError, normalize_currency
from tally.clock import clock

DEFAULT_CURRENCY = "USD"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_PLAN = "FREE"


@dataclass(frozen=True)
class Settings:
    plan: str = DEFAULT_PLAN
    default_currency: str = DEFAULT_CURRENCY
    timezone: str = DEFAULT_TIMEZONE

    def today(self) -> date:
        return today_in(self.timezone)


@dataclass(frozen=True)
class SettingsChange:
    default_currency: str | None = None
    timezone: str | None = None


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    # IANA names only ("Europe/Paris", "UTC"); "localtime" and file paths are not timezones.
    return frozenset(name for name in available_timezones() if name != "localtime")


def is_timezone(name: str) -> bool:
    return name in _timezones()


def today_in(timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def _settings(profile: EarningsProfile | None) -> Settings:
    if profile is None:
        return Settings()
    return Settings(plan=profile.plan, default_currency=profile.default_currency, timezone=profile.timezone)


async def settings_of(session: AsyncSession, user_id: uuid.UUID) -> Settings:
    """The user's settings, or the defaults when they never changed any (writes nothing)."""
    profile = await session.scalar(
        select(EarningsProfile).where(EarningsProfile.user_id == user_id).execution_options(populate_existing=True)
    )
    return _settings(profile)


async def settings_of_many(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, Settings]:
    rows = await session.scalars(select(EarningsProfile).where(EarningsProfile.user_id.in_(user_ids)))
    found = {profile.user_id: _settings(profile) for profile in rows}
    return {user_id: found.get(user_id, Settings()) for user_id in user_ids}


async def lock_profile(session: AsyncSession, user_id: uuid.UUID) -> EarningsProfile:
    """The user's profile row, created with the defaults if need be, locked for this transaction.

    Writes that count something of the user's (active platforms against the plan) take this
    lock first, so two concurrent requests cannot both pass the same check.
    """
    connection = await session.connection()
    values = {
        "user_id": user_id,
        "plan": DEFAULT_PLAN,
        "default_currency": DEFAULT_CURRENCY,
        "timezone": DEFAULT_TIMEZONE,
        "created_at": clock.now(),
        "updated_at": clock.now(),
    }
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(EarningsProfile).values(**values).on_conflict_do_nothing())
    profile = await session.scalar(
        select(EarningsProfile)
        .where(EarningsProfile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert profile is not None
    return profile


async def update_settings(session: AsyncSession, actor: Actor, change: SettingsChange) -> Settings:
    user_id = owner_of(actor)
    check = Validator()
    currency = None
    if change.default_currency is not None:
        try:
            currency = normalize_currency(change.default_currency)
        except MoneyError as exc:
            check.check(False, "defaultCurrency", str(exc))
    timezone = change.timezone.strip() if change.timezone is not None else None
    if timezone is not None:
        check.check(is_timezone(timezone), "timezone", "Give an IANA timezone name, like Europe/Paris.")
    check.raise_if_any()
    profile = await lock_profile(session, user_id)
    if currency is not None:
        profile.default_currency = currency
    if timezone is not None:
        profile.timezone = timezone
    await session.flush()
    return _settings(profile)
