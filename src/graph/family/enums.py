"""The family enums as GraphQL sees them (TaskStatus, GiftStatus, FamilyErrorCode)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.family.errors import FamilyCode


@strawberry.enum(description="PENDING until the first correct answer; then COMPLETED.")
class TaskStatus(Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"


@strawberry.enum(description="SENT: hidden from the child. UNLOCKED: the child's points reached it. ACTIVATED: opened.")
class GiftStatus(Enum):
    SENT = "SENT"
    UNLOCKED = "UNLOCKED"
    ACTIVATED = "ACTIVATED"


FamilyErrorCode = strawberry.enum(FamilyCode, name="FamilyErrorCode",
                                  description="What the client can switch on in FamilyError.code.")

__all__ = ["FamilyCode", "FamilyErrorCode", "GiftStatus", "TaskStatus"]
