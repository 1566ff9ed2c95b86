"""Who may use earnings, and whose rows a viewer sees.

Earnings is for adults tracking their own freelance income: MEMBER and above use it for
themselves; a CHILD may not. Every row belongs to one user and only that user sees it; staff
roles see nothing of another user's earnings (an admin's own earnings are theirs alone).
Plans are changed by staff only (billing arrives with the shop).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false

from domain.actor import Actor, Role
from domain.errors import DomainError, Problem

USES_EARNINGS = Role.MEMBER
CHANGES_PLANS = Role.ADMIN


def may_use_earnings(actor: Actor) -> bool:
    return actor.is_authenticated and actor.has_role_at_least(USES_EARNINGS)


def owner_of(actor: Actor) -> uuid.UUID:
    """The user whose earnings the actor works on; refuses anyone who may not use earnings.

    The GraphQL layer declares the same rule as a permission; this keeps services safe when
    called from elsewhere (jobs, the CLI, tests).
    """
    if not may_use_earnings(actor) or actor.user_id is None:
        raise DomainError(Problem(code="NOT_FOUND", message="No such user.", field=None))
    return actor.user_id


def owned_by(actor: Actor, column: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """A SQL condition: rows whose owner column is the actor (nothing for anyone else)."""
    if not may_use_earnings(actor) or actor.user_id is None:
        return false()
    return column == actor.user_id
