"""Earnings mutations: each runs its service through graph.mutations.mutate (one savepoint)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from domain.earnings import earnings, goals, plans, platforms, profiles
from domain.earnings.policies import CHANGES_PLANS, USES_EARNINGS
from graph.earnings.inputs import (
    ArchivePlatformInput,
    CreateGoalInput,
    CreatePlatformInput,
    DeleteEarningInput,
    RecordEarningInput,
    SetEarningsPlanInput,
    UpdateEarningInput,
    UpdateEarningsSettingsInput,
    UpdatePlatformInput,
)
from graph.earnings.payloads import (
    ArchivePlatformPayload,
    CreateGoalPayload,
    CreatePlatformPayload,
    DeleteEarningPayload,
    RecordEarningPayload,
    SetEarningsPlanPayload,
    UpdateEarningPayload,
    UpdateEarningsSettingsPayload,
    UpdatePlatformPayload,
)
from graph.earnings.types import Earning, EarningsError, EarningsSettings, Goal, Platform, node_uuid
from graph.mutations import mutate
from graph.permissions import HasRole

USES = [HasRole.at_least(USES_EARNINGS)]


@strawberry.type
class EarningsMutation:
    @strawberry.mutation(description="Add a platform. The FREE plan allows 3 active ones (PLAN_LIMIT).",
                         permission_classes=USES)
    async def create_platform(self, info: Info, input: CreatePlatformInput) -> CreatePlatformPayload | None:
        async def call(session: AsyncSession) -> CreatePlatformPayload:
            platform = await platforms.create_platform(session, info.context.actor, input.to_data())
            return CreatePlatformPayload(platform=Platform.from_model(platform))

        return await mutate(info, call, CreatePlatformPayload, EarningsError)

    @strawberry.mutation(description="Rename, recolour or recategorise a platform.", permission_classes=USES)
    async def update_platform(self, info: Info, input: UpdatePlatformInput) -> UpdatePlatformPayload | None:
        async def call(session: AsyncSession) -> UpdatePlatformPayload:
            platform = await platforms.update_platform(session, info.context.actor, input.to_data())
            return UpdatePlatformPayload(platform=Platform.from_model(platform))

        return await mutate(info, call, UpdatePlatformPayload, EarningsError)

    @strawberry.mutation(description="Take a platform out of use; its earnings stay in every list and summary.",
                         permission_classes=USES)
    async def archive_platform(self, info: Info, input: ArchivePlatformInput) -> ArchivePlatformPayload | None:
        async def call(session: AsyncSession) -> ArchivePlatformPayload:
            platform = await platforms.archive_platform(session, info.context.actor, node_uuid(input.id, Platform))
            return ArchivePlatformPayload(platform=Platform.from_model(platform))

        return await mutate(info, call, ArchivePlatformPayload, EarningsError)

    @strawberry.mutation(description="Record an earning; earningsUpdated fires with CREATED.", permission_classes=USES)
    async def record_earning(self, info: Info, input: RecordEarningInput) -> RecordEarningPayload | None:
        async def call(session: AsyncSession) -> RecordEarningPayload:
            earning = await earnings.record_earning(session, info.context.actor, input.to_data())
            return RecordEarningPayload(earning=Earning.from_model(earning))

        return await mutate(info, call, RecordEarningPayload, EarningsError)

    @strawberry.mutation(description="Correct an earning; earningsUpdated fires with UPDATED.", permission_classes=USES)
    async def update_earning(self, info: Info, input: UpdateEarningInput) -> UpdateEarningPayload | None:
        async def call(session: AsyncSession) -> UpdateEarningPayload:
            earning = await earnings.update_earning(session, info.context.actor, input.to_data())
            return UpdateEarningPayload(earning=Earning.from_model(earning))

        return await mutate(info, call, UpdateEarningPayload, EarningsError)

    @strawberry.mutation(description="Delete an earning; earningsUpdated fires with DELETED.", permission_classes=USES)
    async def delete_earning(self, info: Info, input: DeleteEarningInput) -> DeleteEarningPayload | None:
        async def call(session: AsyncSession) -> DeleteEarningPayload:
            deleted = await earnings.delete_earning(session, info.context.actor, node_uuid(input.id, Earning))
            return DeleteEarningPayload(deleted_id=strawberry.ID(relay.to_base64(Earning, deleted)))

        return await mutate(info, call, DeleteEarningPayload, EarningsError)

    @strawberry.mutation(description="Set a goal; it may be COMPLETED at once by earnings already recorded.",
                         permission_classes=USES)
    async def create_goal(self, info: Info, input: CreateGoalInput) -> CreateGoalPayload | None:
        async def call(session: AsyncSession) -> CreateGoalPayload:
            goal = await goals.create_goal(session, info.context.actor, input.to_data())
            return CreateGoalPayload(goal=Goal.from_model(goal))

        return await mutate(info, call, CreateGoalPayload, EarningsError)

    @strawberry.mutation(description="Set the default currency and the timezone.", permission_classes=USES)
    async def update_earnings_settings(
        self, info: Info, input: UpdateEarningsSettingsInput
    ) -> UpdateEarningsSettingsPayload | None:
        async def call(session: AsyncSession) -> UpdateEarningsSettingsPayload:
            settings = await profiles.update_settings(session, info.context.actor, input.to_data())
            return UpdateEarningsSettingsPayload(settings=EarningsSettings.from_settings(settings))

        return await mutate(info, call, UpdateEarningsSettingsPayload, EarningsError)

    @strawberry.mutation(description="Staff: move a user to another earnings plan.",
                         permission_classes=[HasRole.at_least(CHANGES_PLANS)])
    async def set_earnings_plan(self, info: Info, input: SetEarningsPlanInput) -> SetEarningsPlanPayload | None:
        async def call(session: AsyncSession) -> SetEarningsPlanPayload:
            user_id, settings = await plans.set_plan(session, info.context.actor, input.to_data())
            return SetEarningsPlanPayload(
                user_id=strawberry.ID(relay.to_base64("User", user_id)),
                settings=EarningsSettings.from_settings(settings),
            )

        return await mutate(info, call, SetEarningsPlanPayload, EarningsError)
