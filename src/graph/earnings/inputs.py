"""Earnings inputs, as the client contract names them. Ids are global IDs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain.earnings.earnings import KEEP, EarningChange, NewEarning
from domain.earnings.goals import NewGoal
from domain.earnings.plans import Plan, PlanChange
from domain.earnings.platforms import NewPlatform, PlatformChange
from domain.earnings.profiles import SettingsChange
from graph.earnings.types import Earning, Platform, node_uuid, user_uuid


@strawberry.input
class CreatePlatformInput:
    name: str
    category: str | None = None
    color: str | None = strawberry.field(default=None, description="#rrggbb; one is picked when left out.")

    def to_data(self) -> NewPlatform:
        return NewPlatform(name=self.name, category=self.category, color=self.color)


@strawberry.input(description="Rename, recolour or recategorise; fields left out stay as they are.")
class UpdatePlatformInput:
    id: strawberry.ID
    name: str | None = None
    category: str | None = strawberry.field(default=None, description="An empty string clears it.")
    color: str | None = None

    def to_data(self) -> PlatformChange:
        return PlatformChange(id=node_uuid(self.id, Platform), name=self.name, category=self.category,
                              color=self.color)


@strawberry.input
class ArchivePlatformInput:
    id: strawberry.ID


@strawberry.input
class RecordEarningInput:
    platform_id: strawberry.ID
    date: date = strawberry.field(description="At most tomorrow in your timezone.")
    amount: Decimal = strawberry.field(description="More than 0, with at most the currency's decimal places.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217; your default currency otherwise.")
    hours: Decimal | None = strawberry.field(default=None, description="0 or more, to the hundredth.")
    notes: str | None = strawberry.field(default=None, description="At most 2,000 characters.")

    def to_data(self) -> NewEarning:
        return NewEarning(
            platform_id=node_uuid(self.platform_id, Platform),
            date=self.date,
            amount=self.amount,
            currency=self.currency,
            hours=self.hours,
            notes=self.notes,
        )


@strawberry.input(
    description="Change an earning. date, amount and platformId left out (or null) stay as they are; hours and "
    "notes left out stay, and null clears them. The currency cannot change."
)
class UpdateEarningInput:
    id: strawberry.ID
    date: date | None = None
    amount: Decimal | None = None
    hours: Decimal | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    platform_id: strawberry.ID | None = None

    def to_data(self) -> EarningChange:
        return EarningChange(
            id=node_uuid(self.id, Earning),
            date=self.date,
            amount=self.amount,
            platform_id=KEEP if self.platform_id is None else node_uuid(self.platform_id, Platform),
            hours=KEEP if self.hours is strawberry.UNSET else self.hours,
            notes=KEEP if self.notes is strawberry.UNSET else self.notes,
        )


@strawberry.input
class DeleteEarningInput:
    id: strawberry.ID


@strawberry.input
class CreateGoalInput:
    title: str
    target_amount: Decimal
    currency: str | None = strawberry.field(default=None, description="ISO 4217; your default currency otherwise.")
    deadline: date = strawberry.field(description="The last day that counts; today or later in your timezone.")
    description: str | None = None

    def to_data(self) -> NewGoal:
        return NewGoal(
            title=self.title,
            target_amount=self.target_amount,
            deadline=self.deadline,
            currency=self.currency,
            description=self.description,
        )


@strawberry.input(description="Both ends inclusive; all of them optional.")
class EarningFilter:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    platform_id: strawberry.ID | None = None


@strawberry.input(description="Fields left out stay as they are.")
class UpdateEarningsSettingsInput:
    default_currency: str | None = strawberry.field(default=None, description="ISO 4217, e.g. EUR.")
    timezone: str | None = strawberry.field(default=None, description="IANA name, e.g. Europe/Paris.")

    def to_data(self) -> SettingsChange:
        return SettingsChange(default_currency=self.default_currency, timezone=self.timezone)


@strawberry.input
class SetEarningsPlanInput:
    user_id: strawberry.ID = strawberry.field(description="A User's global ID.")
    plan: Plan

    def to_data(self) -> PlanChange:
        return PlanChange(user_id=user_uuid(self.user_id), plan=self.plan)
