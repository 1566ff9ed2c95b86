"""giftUnlocked: fires for the child and for the parent when a gift unlocks.

The event reaches each of them on their own channel (the service publishes to both); the
payload is re-read with the subscriber's visibility through fresh loaders (once per viewer and
event, shared by their connections), so the child never receives a gift they could not query,
and `child { points }` is the balance now.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from strawberry.types import Info

from domain.family.notices import GIFT_UNLOCKED
from graph.family.gifts import Gift
from graph.family.loaders import VisibleChildById, VisibleGiftById
from graph.family.types import Child
from graph.node import parse_uuid, resolve_node_id
from graph.permissions import IsAuthenticated
from graph.subscriptions import fresh_context, shared_payload, user_events


@strawberry.type
class FamilySubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="A gift unlocked: for the child, and for the parent (optionally of one child).",
    )
    async def gift_unlocked(
        self, info: Info, child_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Gift, None]:
        wanted = parse_uuid(resolve_node_id(str(child_id), Child)) if child_id is not None else None
        if child_id is not None and wanted is None:
            return  # not a child's id: nothing will ever match
        async for message in user_events(info, kinds={GIFT_UNLOCKED}):
            gift_id, event_child = parse_uuid(message.get("giftId")), parse_uuid(message.get("childId"))
            if gift_id is None or (wanted is not None and event_child != wanted):
                continue
            # Every connection and subscription of this viewer shares one load of the payload.
            key = ("giftUnlocked", gift_id, info.context.actor.user_id)
            gift = await shared_payload(key, partial(_build, info, gift_id))
            if gift is not None:
                yield gift


async def _build(info: Info, gift_id: uuid.UUID) -> Gift | None:
    async with fresh_context(info) as context:
        row = await context.loader(VisibleGiftById).load(gift_id)
        if row is None:
            return None
        child = await context.loader(VisibleChildById).load(row.child_id)
    return Gift.from_model(row, Child.from_model(child) if child is not None else None)
