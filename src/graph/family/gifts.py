"""Gift and points-history types."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.models.family import FamilyGift
from db.models.ledger import JournalPosting
from graph.family.enums import GiftStatus
from graph.family.loaders import EntryById, VisibleChildById, VisibleGiftById, VisiblePosting
from graph.family.types import Child
from graph.node import parse_uuid


@strawberry.type(description="A gift a parent hid for a child; the child sees it once their points unlock it.")
class Gift(relay.Node):
    id: relay.NodeID[str]
    title: str
    message: str | None
    points_threshold: int
    status: GiftStatus
    created_at: datetime
    unlocked_at: datetime | None
    activated_at: datetime | None
    child_id: strawberry.Private[uuid.UUID]
    # Set when the payload is built ahead (subscriptions build it with their own fresh loaders).
    loaded_child: strawberry.Private[Child | None] = None

    @classmethod
    def from_model(cls, row: FamilyGift, child: Child | None = None) -> Gift:
        return cls(
            id=str(row.id), title=row.title, message=row.message, points_threshold=row.points_threshold,
            status=GiftStatus(row.status), created_at=row.created_at, unlocked_at=row.unlocked_at,
            activated_at=row.activated_at, child_id=row.child_id, loaded_child=child,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Gift | None]:
        ids = [parse_uuid(node_id) for node_id in node_ids]
        found = await info.context.loader(VisibleGiftById).load_many([i for i in ids if i is not None])
        by_id = {row.id: row for row in found if row is not None}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]

    @strawberry.field
    async def child(self, info: Info) -> Child:
        if self.loaded_child is not None:
            return self.loaded_child
        return Child.from_model(await info.context.loader(VisibleChildById).load(self.child_id))


def _posting_key(node_id: str) -> tuple[uuid.UUID, int] | None:
    account, _, version = node_id.partition(":")
    account_id = parse_uuid(account)
    if account_id is None or not version.isdigit():
        return None
    return account_id, int(version)


@strawberry.type(description="One change to a child's points: a reward, an opened gift… (a ledger posting).")
class PointsTransaction(relay.Node):
    id: relay.NodeID[str]
    amount: int = strawberry.field(description="Points in (positive) or out (negative).")
    balance_after: int
    created_at: datetime
    entry_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: JournalPosting) -> PointsTransaction:
        return cls(
            id=f"{row.account_id}:{row.version}", amount=row.amount, balance_after=row.balance_after,
            created_at=row.created_at, entry_id=row.entry_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PointsTransaction | None]:
        keys = [_posting_key(node_id) for node_id in node_ids]
        found = await info.context.loader(VisiblePosting).load_many([k for k in keys if k is not None])
        by_key = {(row.account_id, row.version): row for row in found if row is not None}
        return [cls.from_model(by_key[k]) if k in by_key else None for k in keys]

    @strawberry.field(description="Why the points moved, e.g. family.task_reward or family.gift_activated.")
    async def reason(self, info: Info) -> str:
        return (await info.context.loader(EntryById).load(self.entry_id)).reason

    @strawberry.field(description="What it was for: the task's question, the gift's title.")
    async def memo(self, info: Info) -> str | None:
        return (await info.context.loader(EntryById).load(self.entry_id)).memo
