"""Platforms: where a freelancer earns (Upwork, Fiverr, a direct client…).

Created, renamed, recoloured and archived; never deleted, so their earnings keep a home. The
plan limits how many are active at once (PLAN_LIMIT); names are unique among active ones,
whatever their case (NAME_TAKEN). Writes take the user's profile lock first, so concurrent
requests cannot both slip under the limit or both take one name.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Platform
from domain.actor import Actor
from domain.earnings.errors import Code, PlatformNotFound, refuse
from domain.earnings.plans import platform_limit
from domain.earnings.policies import owner_of
from domain.earnings.profiles import lock_profile
from domain.errors import Validator
from tally.clock import clock

MAX_NAME = 60
MAX_CATEGORY = 60
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# New platforms without a colour take the next of these, so a chart tells them apart.
PALETTE = ("#4f46e5", "#059669", "#d97706", "#dc2626", "#0891b2", "#7c3aed", "#db2777", "#65a30d")


@dataclass(frozen=True)
class NewPlatform:
    name: str
    category: str | None = None
    color: str | None = None


@dataclass(frozen=True)
class PlatformChange:
    id: uuid.UUID | None
    name: str | None = None
    category: str | None = None  # "" clears it
    color: str | None = None


def _check_name(check: Validator, name: str) -> str:
    name = name.strip()
    check.check(0 < len(name) <= MAX_NAME, "name", f"Give a name of 1 to {MAX_NAME} characters.")
    return name


def _check_category(check: Validator, category: str | None) -> str | None:
    if category is None:
        return None
    category = category.strip()
    check.check(len(category) <= MAX_CATEGORY, "category", f"Keep the category to {MAX_CATEGORY} characters.")
    return category or None


def _check_color(check: Validator, color: str | None) -> str | None:
    if color is None:
        return None
    color = color.strip()
    check.check(bool(COLOR.match(color)), "color", "Give a colour as #RRGGBB, like #4f46e5.")
    return color.lower()


async def get_platform(session: AsyncSession, user_id: uuid.UUID, platform_id: uuid.UUID | None,
                       field: str = "id") -> Platform:
    if platform_id is None:
        raise PlatformNotFound(field)
    platform = await session.scalar(
        select(Platform)
        .where(Platform.id == platform_id, Platform.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if platform is None:
        raise PlatformNotFound(field)
    return platform


async def _name_taken(session: AsyncSession, user_id: uuid.UUID, name: str, besides: uuid.UUID | None) -> bool:
    query = select(Platform.id).where(
        Platform.user_id == user_id, Platform.archived_at.is_(None), func.lower(Platform.name) == name.lower()
    )
    if besides is not None:
        query = query.where(Platform.id != besides)
    return await session.scalar(query.limit(1)) is not None


async def count_active(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int(await session.scalar(
        select(func.count()).where(Platform.user_id == user_id, Platform.archived_at.is_(None))
    ) or 0)


async def create_platform(session: AsyncSession, actor: Actor, data: NewPlatform) -> Platform:
    user_id = owner_of(actor)
    check = Validator()
    name = _check_name(check, data.name)
    category = _check_category(check, data.category)
    color = _check_color(check, data.color)
    check.raise_if_any()

    profile = await lock_profile(session, user_id)
    limit = platform_limit(profile.plan)
    if limit is not None and await count_active(session, user_id) >= limit:
        raise refuse(Code.PLAN_LIMIT, f"The {profile.plan} plan allows {limit} active platforms: archive one, "
                                      "or move to a plan without a limit.")
    if await _name_taken(session, user_id, name, besides=None):
        raise refuse(Code.NAME_TAKEN, "You already have an active platform with this name.", "name")
    if color is None:
        existing = await session.scalar(select(func.count()).where(Platform.user_id == user_id)) or 0
        color = PALETTE[existing % len(PALETTE)]
    platform = Platform(user_id=user_id, name=name, category=category, color=color)
    session.add(platform)
    await session.flush()
    return platform


async def update_platform(session: AsyncSession, actor: Actor, change: PlatformChange) -> Platform:
    """Rename, recolour or recategorise; fields left out (None) stay as they are."""
    user_id = owner_of(actor)
    check = Validator()
    name = _check_name(check, change.name) if change.name is not None else None
    category = _check_category(check, change.category)
    color = _check_color(check, change.color)
    check.raise_if_any()

    await lock_profile(session, user_id)
    platform = await get_platform(session, user_id, change.id)
    if name is not None and platform.archived_at is None and await _name_taken(
        session, user_id, name, besides=platform.id
    ):
        raise refuse(Code.NAME_TAKEN, "You already have an active platform with this name.", "name")
    if name is not None:
        platform.name = name
    if change.category is not None:
        platform.category = category
    if color is not None:
        platform.color = color
    await session.flush()
    return platform


async def archive_platform(session: AsyncSession, actor: Actor, platform_id: uuid.UUID | None) -> Platform:
    """Take a platform out of use; its earnings stay, in lists, summaries and exports.

    Archiving twice is a no-op: the first archive time stands.
    """
    user_id = owner_of(actor)
    platform = await get_platform(session, user_id, platform_id)
    if platform.archived_at is None:
        platform.archived_at = clock.now()
        await session.flush()
    return platform


def platforms_query(user_id: uuid.UUID, include_archived: bool = False) -> Select[tuple[Platform]]:
    query = select(Platform).where(Platform.user_id == user_id)
    if not include_archived:
        query = query.where(Platform.archived_at.is_(None))
    return query


# In the order they were added.
PLATFORMS_ORDER = (Platform.created_at, Platform.id)
