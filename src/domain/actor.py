"""Who is acting: the signed-in user (with role and sign-in id), or nobody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "MEMBER"
    CHILD = "CHILD"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


# Staff roles rank above members for admin tools only; they grant no access to members' data.
ROLE_RANK = {Role.CHILD: 0, Role.MEMBER: 1, Role.MODERATOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None = None
    role: Role | None = None
    session_id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def has_role_at_least(self, role: Role) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[role]


ANONYMOUS = Actor()
