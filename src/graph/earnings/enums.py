"""The earnings enums as GraphQL names them (GoalStatus, EarningEventKind, EarningsPlan,
EarningsErrorCode), registered once before any type uses them."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.earnings.earnings import EventKind
from domain.earnings.errors import Code
from domain.earnings.goals import GoalStatus
from domain.earnings.plans import Plan

strawberry.enum(GoalStatus, name="GoalStatus",
                description="ACTIVE until the target is reached (COMPLETED) or the deadline passes first (MISSED).")
strawberry.enum(Plan, name="EarningsPlan", description="FREE allows 3 active platforms; PRO and BUSINESS any number.")
strawberry.enum(Code, name="EarningsErrorCode", description="What the client can switch on in EarningsError.code.")


@strawberry.enum(description="What happened to the earning.")
class EarningEventKind(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"

    @classmethod
    def of(cls, kind: EventKind) -> EarningEventKind:
        return {
            EventKind.CREATED: cls.CREATED,
            EventKind.UPDATED: cls.UPDATED,
            EventKind.DELETED: cls.DELETED,
        }[kind]


__all__ = ["Code", "EarningEventKind", "GoalStatus", "Plan"]
