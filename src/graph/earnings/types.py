"""Earnings types: the Platform, Earning and Goal nodes, settings, and the error type."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.models import earnings as models
from domain.earnings import goals
from domain.earnings.earnings import hours_from_centi, rate_minor
from domain.earnings.plans import platform_limit
from domain.earnings.profiles import Settings
from graph.earnings.enums import Code, GoalStatus, Plan
from graph.earnings.loaders import EarningById, GoalById, GoalCurrentAmount, PlatformById
from graph.errors import UserError
from graph.money import Money
from graph.node import load_visible_nodes, parse_uuid, resolve_node_id


@strawberry.type(description="A problem with an earnings mutation's input; nothing was changed by it.")
class EarningsError(UserError):
    codes: ClassVar[type[Enum]] = Code
    code: Code


def node_uuid(global_id: str | None, node_type: type[relay.Node]) -> uuid.UUID | None:
    """The UUID inside a global ID of `node_type`; None when it is malformed or of another type."""
    if global_id is None:
        return None
    return parse_uuid(resolve_node_id(str(global_id), node_type))


def user_uuid(global_id: str) -> uuid.UUID | None:
    """The UUID inside a User's global ID (graph.accounts is not imported here: it imports us)."""
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return None
    return parse_uuid(decoded.node_id) if decoded.type_name == "User" else None


async def _resolve(cls: Any, info: Info, node_ids: Iterable[str], loader: type) -> list[Any]:
    rows = await load_visible_nodes(info, node_ids, loader)
    return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.type(description="Where a freelancer earns. Archived platforms keep their earnings.")
class Platform(relay.Node):
    id: relay.NodeID[str]
    name: str
    category: str | None
    color: str = strawberry.field(description="#rrggbb, for charts.")
    archived: bool
    archived_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, platform: models.Platform) -> Platform:
        return cls(
            id=str(platform.id),
            name=platform.name,
            category=platform.category,
            color=platform.color,
            archived=platform.archived_at is not None,
            archived_at=platform.archived_at,
            created_at=platform.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Platform | None]:
        return await _resolve(cls, info, node_ids, PlatformById)


@strawberry.type(description="Income received on a platform (recorded here; Tally does not hold it).")
class Earning(relay.Node):
    id: relay.NodeID[str]
    date: date
    hours: Decimal | None = strawberry.field(description="Hours worked, to the hundredth; null when not tracked.")
    notes: str | None
    created_at: datetime
    updated_at: datetime
    platform_id: strawberry.Private[uuid.UUID]
    # The money fields are built when asked for: a long list that shows dates and notes
    # builds no Money at all.
    amount_minor: strawberry.Private[int]
    currency: strawberry.Private[str]
    hours_centi: strawberry.Private[int | None]
    # Set when the earning is built outside a request (a subscription event), so nothing
    # nested needs the long-lived connection's loaders.
    preloaded_platform: strawberry.Private[Platform | None] = None

    @classmethod
    def from_model(cls, earning: models.Earning, platform: models.Platform | None = None) -> Earning:
        return cls(
            id=str(earning.id),
            date=earning.date,
            hours=hours_from_centi(earning.hours_centi),
            notes=earning.notes,
            created_at=earning.created_at,
            updated_at=earning.updated_at,
            platform_id=earning.platform_id,
            amount_minor=earning.amount_minor,
            currency=earning.currency,
            hours_centi=earning.hours_centi,
            preloaded_platform=Platform.from_model(platform) if platform is not None else None,
        )

    @strawberry.field
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @strawberry.field(
        description="amount / hours, rounded half up to the currency's minor unit; null without hours > 0."
    )
    def hourly_rate(self) -> Money | None:
        rate = rate_minor(self.amount_minor, self.hours_centi)
        return Money.from_minor(rate, self.currency) if rate is not None else None

    @strawberry.field
    async def platform(self, info: Info) -> Platform | None:
        if self.preloaded_platform is not None:
            return self.preloaded_platform
        platform = await info.context.loader(PlatformById).load(self.platform_id)
        return Platform.from_model(platform) if platform else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Earning | None]:
        return await _resolve(cls, info, node_ids, EarningById)


@strawberry.type(description="Earn a target amount in one currency between the day the goal was set and its deadline.")
class Goal(relay.Node):
    id: relay.NodeID[str]
    title: str
    description: str | None
    target_amount: Money
    starts_on: date = strawberry.field(
        description="The day it was set, in the owner's timezone; earnings count from it."
    )
    deadline: date = strawberry.field(description="The last day that counts (inclusive).")
    status: GoalStatus
    completed_at: datetime | None
    missed_at: datetime | None
    created_at: datetime
    target_minor: strawberry.Private[int]
    currency: strawberry.Private[str]

    @classmethod
    def from_model(cls, goal: models.Goal) -> Goal:
        return cls(
            id=str(goal.id),
            title=goal.title,
            description=goal.description,
            target_amount=Money.from_minor(goal.target_minor, goal.currency),
            starts_on=goal.starts_on,
            deadline=goal.deadline,
            status=GoalStatus(goal.status),
            completed_at=goal.completed_at,
            missed_at=goal.missed_at,
            created_at=goal.created_at,
            target_minor=goal.target_minor,
            currency=goal.currency,
        )

    async def _current_minor(self, info: Info) -> int:
        return await info.context.loader(GoalCurrentAmount).load(uuid.UUID(self.id))

    @strawberry.field(description="Earnings in the goal's currency from startsOn to the deadline; none converted.")
    async def current_amount(self, info: Info) -> Money:
        return Money.from_minor(await self._current_minor(info), self.currency)

    @strawberry.field(description="currentAmount / targetAmount, in [0, 1].")
    async def progress(self, info: Info) -> float:
        return goals.progress(await self._current_minor(info), self.target_minor)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Goal | None]:
        return await _resolve(cls, info, node_ids, GoalById)


@strawberry.type(description="The viewer's earnings settings and plan.")
class EarningsSettings:
    plan: Plan
    default_currency: str = strawberry.field(
        description="ISO 4217; used when an earning, goal or summary leaves its currency out. USD until changed."
    )
    timezone: str = strawberry.field(
        description="IANA name; decides 'today' for earning dates and goal deadlines. UTC until changed."
    )
    platform_limit: int | None = strawberry.field(description="Active platforms the plan allows; null for no limit.")

    @classmethod
    def from_settings(cls, settings: Settings) -> EarningsSettings:
        return cls(
            plan=Plan(settings.plan),
            default_currency=settings.default_currency,
            timezone=settings.timezone,
            platform_limit=platform_limit(settings.plan),
        )
