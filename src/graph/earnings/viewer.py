"""Earnings fields on `me`: settings, platforms, earnings, goals, the summary and currencies.

`User` takes this class among its bases; `self.id` is the user's id. `me` is only ever the
viewer, but each resolver checks that the actor is that user anyway. Children may not use
earnings (FORBIDDEN); the fields are nullable so that refusal nulls the field, not `me`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from db.pagination import paginate
from domain.earnings import earnings, goals, platforms, profiles, summary
from domain.earnings.policies import USES_EARNINGS
from domain.errors import DomainError
from graph.earnings.enums import GoalStatus
from graph.earnings.inputs import EarningFilter
from graph.earnings.summary import EarningsSummary
from graph.earnings.types import Earning, EarningsSettings, Goal, Platform, node_uuid
from graph.errors import BadUserInput
from graph.pagination import Connection, page_request
from graph.permissions import HasRole

USES = [HasRole.at_least(USES_EARNINGS)]


def _viewer(fields: object, info: Info) -> uuid.UUID | None:
    actor = info.context.actor
    if actor.user_id is None or str(actor.user_id) != str(getattr(fields, "id", None)):
        return None
    return actor.user_id


@strawberry.type
class EarningsViewerFields:
    @strawberry.field(description="Plan, default currency and timezone.", permission_classes=USES)
    async def earnings_settings(self, info: Info) -> EarningsSettings | None:
        user_id = _viewer(self, info)
        if user_id is None:
            return None
        async with info.context.uow.serialized() as session:
            settings = await profiles.settings_of(session, user_id)
        return EarningsSettings.from_settings(settings)

    @strawberry.field(description="Platforms in the order they were added; archived ones on request.",
                      permission_classes=USES)
    async def platforms(
        self, info: Info, include_archived: bool = False, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Platform] | None:
        user_id = _viewer(self, info)
        if user_id is None:
            return None
        request = page_request(first, after, last, before)
        async with info.context.uow.serialized() as session:
            page = await paginate(session, platforms.platforms_query(user_id, include_archived),
                                  platforms.PLATFORMS_ORDER, request, descending=False)
        return Connection.from_page(page, Platform.from_model)

    @strawberry.field(description="Earnings newest first (by date, then by when recorded).", permission_classes=USES)
    async def earnings(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: EarningFilter | None = None,
    ) -> Connection[Earning] | None:
        user_id = _viewer(self, info)
        if user_id is None:
            return None
        request = page_request(first, after, last, before)
        query = earnings.earnings_query(user_id)
        if filter is not None:
            query = earnings.earnings_query(
                user_id, filter.from_, filter.to,
                earnings.KEEP if filter.platform_id is None else node_uuid(filter.platform_id, Platform),
            )
        async with info.context.uow.serialized() as session:
            page = await paginate(session, query, earnings.EARNINGS_ORDER, request, rows=True)
        return Connection.from_page(page, Earning.from_model)

    @strawberry.field(description="Goals newest first, optionally of one status.", permission_classes=USES)
    async def goals(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, status: GoalStatus | None = None,
    ) -> Connection[Goal] | None:
        user_id = _viewer(self, info)
        if user_id is None:
            return None
        request = page_request(first, after, last, before)
        async with info.context.uow.serialized() as session:
            page = await paginate(session, goals.goals_query(user_id, status), goals.GOALS_ORDER, request)
        return Connection.from_page(page, Goal.from_model)

    @strawberry.field(
        description="Earnings from `from` to `to` (inclusive) in ONE currency: `currency` (ISO 4217) when given, "
        "otherwise the default currency of earningsSettings. Earnings in other currencies are left out; nothing "
        "is converted.",
        permission_classes=USES,
    )
    async def earnings_summary(
        self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date,
        currency: str | None = None,
    ) -> EarningsSummary | None:
        if _viewer(self, info) is None:
            return None
        try:
            async with info.context.uow.serialized() as session:
                result = await summary.summarize(session, info.context.actor, from_, to, currency)
        except DomainError as refused:
            raise BadUserInput(refused.problems[0].message, field=refused.problems[0].field) from None
        return EarningsSummary.from_summary(result)

    @strawberry.field(description="The currencies you have earnings in (ISO 4217), alphabetically.",
                      permission_classes=USES)
    async def earning_currencies(self, info: Info) -> list[str] | None:
        if _viewer(self, info) is None:
            return None
        async with info.context.uow.serialized() as session:
            return await summary.earning_currencies(session, info.context.actor)
