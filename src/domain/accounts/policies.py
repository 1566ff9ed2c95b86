"""Who may see which account.

A user sees their own account and nobody else's. Staff roles (MODERATOR, ADMIN) rank higher
for admin tools only; they see nothing of members' private data until an issue grants it
explicitly, here, in one place.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false

from db.models.accounts import User
from domain.actor import Actor, Role

# Managing one's own sign-in security (two-factor) is for adults; a child's parent manages theirs.
MANAGES_OWN_SECURITY = Role.MEMBER


def visible_users(actor: Actor) -> ColumnElement[bool]:
    """A SQL condition selecting the users `actor` may see."""
    if actor.user_id is None:
        return false()
    return User.id == actor.user_id


def may_see_user(actor: Actor, user_id: uuid.UUID) -> bool:
    return actor.user_id is not None and actor.user_id == user_id
