"""Family: children and the parent who owns them, quiz tasks and their answers, every attempt,
hidden gifts and the entitlements opened gifts grant.

A child is a CHILD user (accounts owns sign-in); `family_children` links that user to the
parent and to the child's POINTS account in the ledger. Points live only in the ledger: no
table here holds a balance. Rows are keyed so that each list the client pages through (a
child's tasks, gifts, results) is one index range.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from db.models.accounts import User
from db.models.ledger import LedgerAccount

TASK_STATUSES = ("PENDING", "COMPLETED")
GIFT_STATUSES = ("SENT", "UNLOCKED", "ACTIVATED")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class FamilyChild(Base):
    """A child user, owned by one parent. Its key is the child's user id (one family per child)."""

    __tablename__ = "family_children"
    __table_args__ = (Index(None, "parent_id", "created_at", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    birthday: Mapped[date | None]
    points_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Read with the row in the same statement (also inside paged, ranked queries), so a page of
    # children needs no second query for names and points. Points are the ledger's cached
    # balance, which the ledger keeps equal to the sum of the account's postings.
    name: Mapped[str] = column_property(
        select(User.name).where(User.id == user_id).correlate_except(User).scalar_subquery()
    )
    username: Mapped[str] = column_property(
        select(User.username).where(User.id == user_id).correlate_except(User).scalar_subquery()
    )
    points: Mapped[int] = column_property(
        select(LedgerAccount.balance)
        .where(LedgerAccount.id == points_account_id)
        .correlate_except(LedgerAccount)
        .scalar_subquery()
    )


class FamilyTask(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "family_tasks"
    __table_args__ = (
        CheckConstraint(_one_of("status", TASK_STATUSES), name="status"),
        CheckConstraint("points_reward > 0", name="points_reward"),
        # Newest first per child, with or without a status filter.
        Index(None, "child_id", "created_at", "id"),
        Index("ix_family_tasks_child_status", "child_id", "status", "created_at", "id"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_children.user_id", ondelete="CASCADE"))
    # Who set it: the child's parent when it was created.
    parent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(100))
    points_reward: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    opened_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class FamilyTaskAnswer(UUIDPrimaryKey, Base):
    __tablename__ = "family_task_answers"
    __table_args__ = (
        Index("uq_family_task_answers_task_position", "task_id", "position", unique=True),
        # At most one correct answer per task, whatever a bug upstream might try.
        Index(
            "uq_family_task_answers_one_correct", "task_id", unique=True,
            postgresql_where=text("correct"), sqlite_where=text("correct"),
        ),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    correct: Mapped[bool]


class FamilyTaskAttempt(UUIDPrimaryKey, Base):
    """One submitted answer (a "task result"): right or wrong, with the time it took."""

    __tablename__ = "family_task_attempts"
    __table_args__ = (
        CheckConstraint("points_earned >= 0", name="points_earned"),
        Index(None, "child_id", "created_at", "id"),
        Index(None, "task_id"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_tasks.id", ondelete="CASCADE"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_children.user_id", ondelete="CASCADE"))
    answer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_task_answers.id", ondelete="CASCADE"))
    correct: Mapped[bool]
    # The reward paid by this attempt: the task's reward on the completing attempt, else 0.
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds since the child first opened the task; null when it was answered unopened.
    time_taken_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FamilyGift(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "family_gifts"
    __table_args__ = (
        CheckConstraint(_one_of("status", GIFT_STATUSES), name="status"),
        CheckConstraint("points_threshold > 0", name="points_threshold"),
        Index(None, "child_id", "created_at", "id"),
        Index("ix_family_gifts_child_status", "child_id", "status", "points_threshold"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_children.user_id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    points_threshold: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="SENT")
    # A shop product the gift grants, once the shop exists (no foreign key until then).
    product_id: Mapped[uuid.UUID | None]
    unlocked_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]


class FamilyEntitlement(UUIDPrimaryKey, Base):
    """What an opened gift grants the child; one per gift, so a gift is opened once."""

    __tablename__ = "family_entitlements"

    gift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_gifts.id", ondelete="CASCADE"), unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("family_children.user_id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID | None]
    # The ledger entry that moved the gift's points from the child to the parent.
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
