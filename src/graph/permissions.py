"""Permissions declared on fields and mutations (never buried in their bodies).

    @strawberry.field(permission_classes=[IsAuthenticated])
    @strawberry.mutation(permission_classes=[HasRole.at_least(Role.ADMIN)])

Not signed in: UNAUTHENTICATED. Signed in but not allowed: FORBIDDEN. Ownership of an object is
checked where it is loaded (domain services and `visible_nodes`), so another user's object
reads exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from domain.actor import Role
from graph.errors import Forbidden, Unauthenticated


class IsAuthenticated(BasePermission):
    message = Unauthenticated.default_message
    error_class = Unauthenticated

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.actor.is_authenticated


class _RoleAtLeast(BasePermission):
    role: Role = Role.MEMBER

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        if not actor.is_authenticated:
            raise Unauthenticated()
        return actor.has_role_at_least(self.role)

    message = Forbidden.default_message
    error_class = Forbidden


class HasRole:
    @staticmethod
    def at_least(role: Role) -> type[BasePermission]:
        return type(f"RoleAtLeast{role.value.title()}", (_RoleAtLeast,), {"role": role})

    @staticmethod
    def exactly(*roles: Role) -> type[BasePermission]:
        def has_permission(self: BasePermission, source: Any, info: Info, **kwargs: Any) -> bool:
            actor = info.context.actor
            if not actor.is_authenticated:
                raise Unauthenticated()
            return actor.role in roles

        name = "RoleIs" + "Or".join(r.value.title() for r in roles)
        return type(name, (_RoleAtLeast,), {"has_permission": has_permission})
