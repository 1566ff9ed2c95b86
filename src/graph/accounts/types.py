"""Account types: the User node, the two-factor challenge, enums and the error type."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import ClassVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.models import accounts as models
from graph.accounts.enums import Channel, Code, Role
from graph.accounts.loaders import VisibleUserById
from graph.earnings.viewer import EarningsViewerFields
from graph.errors import UserError
from graph.family.viewer import FamilyViewerFields
from graph.node import load_visible_nodes
from graph.notifications.viewer import NotificationsViewerFields


@strawberry.type(description="A problem with an accounts mutation's input; nothing was changed by it.")
class AccountsError(UserError):
    codes: ClassVar[type[Enum]] = Code
    code: Code



@strawberry.type(description="A person's account. Visible to that person only.")
class User(relay.Node, NotificationsViewerFields, FamilyViewerFields, EarningsViewerFields):
    id: relay.NodeID[str]
    email: str | None
    username: str | None = strawberry.field(description="A child's sign-in name; null for adults.")
    name: str
    phone: str | None
    role: Role
    email_verified: bool
    two_factor_enabled: bool
    two_factor_channel: Channel | None
    created_at: datetime

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(
            id=str(user.id),
            email=user.email,
            username=user.username,
            name=user.name,
            phone=user.phone,
            role=Role(user.role),
            email_verified=user.email_verified_at is not None,
            two_factor_enabled=user.two_factor_channel is not None,
            two_factor_channel=Channel(user.two_factor_channel) if user.two_factor_channel else None,
            created_at=user.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[User | None]:
        rows = await load_visible_nodes(info, node_ids, VisibleUserById)
        return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.type(description="Sign-in needs a one-time code, sent on this channel; pass its id to verifyOtp.")
class OtpChallenge:
    id: strawberry.ID
    channel: Channel
    expires_at: datetime

    @classmethod
    def from_model(cls, challenge: models.OtpChallenge) -> OtpChallenge:
        return cls(id=strawberry.ID(str(challenge.id)), channel=Channel(challenge.channel),
                   expires_at=challenge.expires_at)
