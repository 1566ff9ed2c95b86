"""Notification types: the node, its style, and the domain's error type."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import ClassVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.models import notifications as models
from domain.notifications.errors import Code
from graph.errors import UserError
from graph.node import load_visible_nodes
from graph.notifications.loaders import VisibleNotificationById


@strawberry.enum(description="How the client shows a notification.")
class NotificationStyle(Enum):
    TOAST = "TOAST"
    MODAL = "MODAL"


NotificationsErrorCode = strawberry.enum(Code, name="NotificationsErrorCode")


@strawberry.type(description="A problem with a notifications mutation's input; nothing was changed by it.")
class NotificationsError(UserError):
    codes: ClassVar[type[Enum]] = Code
    code: NotificationsErrorCode  # type: ignore[valid-type]


@strawberry.type(description="Something that happened, for one user's bell. Visible to its recipient only.")
class Notification(relay.Node):
    id: relay.NodeID[str]
    type: str = strawberry.field(description="What it is about, e.g. security.new_sign_in or family.gift_unlocked.")
    title: str
    message: str
    style: NotificationStyle
    read: bool
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.Notification) -> Notification:
        return cls(
            id=str(row.id), type=row.type, title=row.title, message=row.message,
            style=NotificationStyle(row.style), read=row.read_at is not None, created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Notification | None]:
        rows = await load_visible_nodes(info, node_ids, VisibleNotificationById)
        return [cls.from_model(row) if row is not None else None for row in rows]
