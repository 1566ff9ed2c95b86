"""The viewer."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.accounts.loaders import VisibleUserById
from graph.accounts.types import User


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The signed-in user, or null when signed out.")
    async def me(self, info: Info) -> User | None:
        actor = info.context.actor
        if actor.user_id is None:
            return None
        user = await info.context.loader(VisibleUserById).load(actor.user_id)
        return User.from_model(user) if user else None
