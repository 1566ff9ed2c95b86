"""Recording earnings: what a freelancer was paid, on which platform, for how many hours.

Earnings are not ledger balances. They record income received elsewhere (a platform or a
client paid the freelancer directly); Tally holds none of that money, so nothing here posts
to the ledger, and an earning can be corrected or deleted like any record of one's own.

Every write publishes an event on the owner's channel after the commit (ids only; the
subscription rebuilds the earning from the database) and checks whether the owner's goals in
that currency are now reached.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning
from domain.actor import Actor
from domain.earnings import goals
from domain.earnings.errors import Code, EarningNotFound, PlatformNotFound, refuse
from domain.earnings.platforms import get_platform
from domain.earnings.policies import owner_of
from domain.earnings.profiles import Settings, settings_of
from domain.errors import Validator
from domain.money import MoneyError, normalize_currency, to_minor
from tally.effects import publish

MAX_NOTES = 2000
# A ceiling far above any one payment, so sums over millions of rows stay exact in 64 bits.
MAX_AMOUNT_MINOR = 10**12
MAX_HOURS = Decimal(10_000)
HOURS_DIGITS = 2


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # an update field left out: the value stays as it is


@dataclass(frozen=True)
class NewEarning:
    platform_id: uuid.UUID | None
    date: date
    amount: Decimal
    currency: str | None = None
    hours: Decimal | None = None
    notes: str | None = None


@dataclass(frozen=True)
class EarningChange:
    id: uuid.UUID | None
    date: date | None = None
    amount: Decimal | None = None
    platform_id: uuid.UUID | _Keep | None = KEEP
    hours: Decimal | _Keep | None = KEEP  # None clears
    notes: str | _Keep | None = KEEP  # None (or blank) clears


class EventKind(StrEnum):
    CREATED = "earning_created"
    UPDATED = "earning_updated"
    DELETED = "earning_deleted"


def hours_from_centi(hours_centi: int | None) -> Decimal | None:
    if hours_centi is None:
        return None
    return Decimal(hours_centi).scaleb(-HOURS_DIGITS).quantize(Decimal("0.01"))


def rate_minor(amount_minor: int, hours_centi: int | None) -> int | None:
    """Amount per hour in minor units, rounded half up to the currency's minor unit.

    `amount / hours` when hours > 0, else None (no time tracked, no rate). Half up is what a
    calculator shows; the rate is a figure to read, never summed into anything.
    """
    if not hours_centi:
        return None
    exact = Decimal(amount_minor) * 100 / Decimal(hours_centi)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check_amount(check: Validator, amount: Decimal, currency: str, field: str = "amount") -> int | None:
    try:
        minor = to_minor(amount, currency)
    except MoneyError as exc:
        check.check(False, field, str(exc))
        return None
    if not check.check(minor > 0, field, "The amount must be more than zero."):
        return None
    if not check.check(minor <= MAX_AMOUNT_MINOR, field, "This amount is too large."):
        return None
    return minor


def _check_hours(check: Validator, hours: Decimal | None) -> int | None:
    if hours is None:
        return None
    try:
        scaled = Decimal(hours).scaleb(HOURS_DIGITS)
        ok = scaled.is_finite() and scaled == scaled.to_integral_value()
    except InvalidOperation:
        ok = False
    if not check.check(ok, "hours", f"Give hours with at most {HOURS_DIGITS} decimal places."):
        return None
    if not check.check(hours >= 0, "hours", "Hours cannot be negative."):
        return None
    if not check.check(hours <= MAX_HOURS, "hours", f"At most {MAX_HOURS} hours for one earning."):
        return None
    return int(scaled)


def _check_date(check: Validator, day: date, settings: Settings) -> None:
    latest = settings.today() + timedelta(days=1)
    check.check(day <= latest, "date", f"The date can be at most tomorrow ({latest.isoformat()}) in your timezone, "
                                       f"{settings.timezone}.")


def _check_notes(check: Validator, notes: str | None) -> str | None:
    if notes is None:
        return None
    notes = notes.strip()
    check.check(len(notes) <= MAX_NOTES, "notes", f"Keep notes to {MAX_NOTES:,} characters.")
    return notes or None


def _currency(check: Validator, currency: str | None, settings: Settings) -> str | None:
    if currency is None:
        return settings.default_currency
    try:
        return normalize_currency(currency)
    except MoneyError as exc:
        check.check(False, "currency", str(exc))
        return None


async def _usable_platform(session: AsyncSession, user_id: uuid.UUID, platform_id: uuid.UUID | None) -> Any:
    platform = await get_platform(session, user_id, platform_id, field="platformId")
    if platform.archived_at is not None:
        raise refuse(Code.PLATFORM_ARCHIVED, "This platform is archived; record new earnings on an active one.",
                     "platformId")
    return platform


def _announce(session: AsyncSession, earning_id: uuid.UUID, user_id: uuid.UUID, kind: EventKind) -> None:
    publish(session, f"user:{user_id}", {"kind": kind.value, "earningId": str(earning_id)})


async def record_earning(session: AsyncSession, actor: Actor, data: NewEarning) -> Earning:
    user_id = owner_of(actor)
    settings = await settings_of(session, user_id)
    check = Validator()
    currency = _currency(check, data.currency, settings)
    amount_minor = _check_amount(check, data.amount, currency) if currency else None
    hours_centi = _check_hours(check, data.hours)
    _check_date(check, data.date, settings)
    notes = _check_notes(check, data.notes)
    if data.platform_id is None:
        check.check(False, "platformId", "No such platform.", code=Code.NOT_FOUND.value)
    check.raise_if_any()
    assert currency is not None and amount_minor is not None

    platform = await _usable_platform(session, user_id, data.platform_id)
    earning = Earning(
        user_id=user_id,
        platform_id=platform.id,
        date=data.date,
        amount_minor=amount_minor,
        currency=currency,
        hours_centi=hours_centi,
        notes=notes,
    )
    session.add(earning)
    await session.flush()
    _announce(session, earning.id, user_id, EventKind.CREATED)
    await goals.complete_reached_goals(session, user_id, currency)
    return earning


async def get_earning(session: AsyncSession, user_id: uuid.UUID, earning_id: uuid.UUID | None) -> Earning:
    if earning_id is None:
        raise EarningNotFound()
    # Locked: of two changes at once the second waits, then sees the first (a deleted row is gone).
    earning = await session.scalar(
        select(Earning)
        .where(Earning.id == earning_id, Earning.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if earning is None:
        raise EarningNotFound()
    return earning


async def update_earning(session: AsyncSession, actor: Actor, change: EarningChange) -> Earning:
    """Change what is given; the currency stays (a different currency is a different earning)."""
    user_id = owner_of(actor)
    earning = await get_earning(session, user_id, change.id)
    settings = await settings_of(session, user_id)
    check = Validator()
    amount_minor = _check_amount(check, change.amount, earning.currency) if change.amount is not None else None
    hours_centi = _check_hours(check, change.hours) if change.hours is not KEEP else None
    if change.date is not None and change.date != earning.date:
        _check_date(check, change.date, settings)
    notes = _check_notes(check, change.notes) if change.notes is not KEEP else None
    check.raise_if_any()

    if change.platform_id is not KEEP and change.platform_id != earning.platform_id:
        if change.platform_id is None:
            raise PlatformNotFound("platformId")
        earning.platform_id = (await _usable_platform(session, user_id, change.platform_id)).id
    if change.date is not None:
        earning.date = change.date
    if amount_minor is not None:
        earning.amount_minor = amount_minor
    if change.hours is not KEEP:
        earning.hours_centi = hours_centi
    if change.notes is not KEEP:
        earning.notes = notes
    await session.flush()
    _announce(session, earning.id, user_id, EventKind.UPDATED)
    await goals.complete_reached_goals(session, user_id, earning.currency)
    return earning


async def delete_earning(session: AsyncSession, actor: Actor, earning_id: uuid.UUID | None) -> uuid.UUID:
    """Delete an earning of one's own. A goal it helped complete stays COMPLETED."""
    user_id = owner_of(actor)
    earning = await get_earning(session, user_id, earning_id)
    await session.delete(earning)
    await session.flush()
    _announce(session, earning.id, user_id, EventKind.DELETED)
    return earning.id


def earnings_query(
    user_id: uuid.UUID, start: date | None = None, end: date | None = None,
    platform_id: uuid.UUID | _Keep | None = KEEP,
) -> Select[tuple[Earning]]:
    """The user's earnings, optionally within dates (inclusive) and on one platform (None: none)."""
    query = select(Earning).where(Earning.user_id == user_id)
    if start is not None:
        query = query.where(Earning.date >= start)
    if end is not None:
        query = query.where(Earning.date <= end)
    if platform_id is None:
        query = query.where(false())
    elif platform_id is not KEEP:
        query = query.where(Earning.platform_id == platform_id)
    return query


# Newest first: by date, then by when it was recorded; the id makes the order total.
EARNINGS_ORDER = (Earning.date, Earning.created_at, Earning.id)
