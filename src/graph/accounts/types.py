"""Account types: the User node, the two-factor challenge, enums and the error type."""

from __future__ import annotations

import uuid
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
from graph.notifications.viewer import NotificationsViewerFields


@strawberry.type(description="A problem with an accounts mutation's input; nothing was changed by it.")
class AccountsError(UserError):
    codes: ClassVar[type[Enum]] = Code
    code: Code


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


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
        # The pattern for every node type: parse, load through the request's visibility-aware
        # loader, and answer None for anything missing or not the viewer's.
        ids = [parse_uuid(node_id) for node_id in node_ids]
        loader = info.context.loader(VisibleUserById)
        found = await loader.load_many([i for i in ids if i is not None])
        by_id = {user.id: user for user in found if user is not None}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]


@strawberry.type(description="Sign-in needs a one-time code, sent on this channel; pass its id to verifyOtp.")
class OtpChallenge:
    id: strawberry.ID
    channel: Channel
    expires_at: datetime

    @classmethod
    def from_model(cls, challenge: models.OtpChallenge) -> OtpChallenge:
        return cls(id=strawberry.ID(str(challenge.id)), channel=Channel(challenge.channel),
                   expires_at=challenge.expires_at)
