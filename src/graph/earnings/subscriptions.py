"""earningsUpdated: the owner's earnings as they are created, changed and deleted.

Services publish ids on the owner's channel after the commit; each event is rebuilt here from
the database with fresh loaders, so a subscriber sees what a query would show (an earning
deleted since reads as null).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.earnings.earnings import EventKind
from domain.earnings.policies import USES_EARNINGS
from graph.context import Context
from graph.earnings.enums import EarningEventKind
from graph.earnings.loaders import EarningById, PlatformById
from graph.earnings.types import Earning
from graph.node import parse_uuid
from graph.permissions import HasRole
from graph.subscriptions import fresh_context, user_events

EVENT_KINDS = {kind.value for kind in EventKind}


@strawberry.type(description="An earning was created, updated or deleted.")
class EarningEvent:
    kind: EarningEventKind
    earning_id: strawberry.ID
    earning: Earning | None = strawberry.field(description="As it is now; null after a delete.")


async def build_earning_event(context: Context, message: dict[str, Any]) -> EarningEvent | None:
    earning_id = parse_uuid(message.get("earningId"))
    if earning_id is None:
        return None
    kind = EventKind(message["kind"])
    earning = None
    if kind is not EventKind.DELETED:
        row = await context.loader(EarningById).load(earning_id)
        if row is not None:
            platform = await context.loader(PlatformById).load(row.platform_id)
            earning = Earning.from_model(row, platform)
    return EarningEvent(
        kind=EarningEventKind.of(kind),
        earning_id=strawberry.ID(relay.to_base64(Earning, earning_id)),
        earning=earning,
    )


@strawberry.type
class EarningsSubscription:
    @strawberry.subscription(
        description="Your earnings as they are created, updated and deleted (yours only).",
        permission_classes=[HasRole.at_least(USES_EARNINGS)],
    )
    async def earnings_updated(self, info: Info) -> AsyncGenerator[EarningEvent, None]:
        async for message in user_events(info, kinds=EVENT_KINDS):
            async with fresh_context(info) as context:
                event = await build_earning_event(context, message)
            if event is not None:
                yield event
