"""Earnings mutation payloads: the changed object, and `errors` (empty on success)."""

from __future__ import annotations

import strawberry

from graph.earnings.types import Earning, EarningsError, EarningsSettings, Goal, Platform


@strawberry.type
class CreatePlatformPayload:
    platform: Platform | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdatePlatformPayload:
    platform: Platform | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class ArchivePlatformPayload:
    platform: Platform | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordEarningPayload:
    earning: Earning | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateEarningPayload:
    earning: Earning | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteEarningPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateGoalPayload:
    goal: Goal | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateEarningsSettingsPayload:
    settings: EarningsSettings | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)


@strawberry.type
class SetEarningsPlanPayload:
    user_id: strawberry.ID | None = None
    settings: EarningsSettings | None = None
    errors: list[EarningsError] = strawberry.field(default_factory=list)
