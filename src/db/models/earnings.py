"""Freelancer earnings: each user's settings and plan, their platforms, earnings and goals.

Earnings record income received elsewhere (a client paid on Upwork, a Fiverr payout); they are
not balances Tally holds, so they live here and never in the ledger. Amounts are integer minor
units of their own currency; hours are integer hundredths of an hour, so sums stay exact
integers in SQL on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey

PLANS = ("FREE", "PRO", "BUSINESS")
GOAL_STATUSES = ("ACTIVE", "COMPLETED", "MISSED")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EarningsProfile(Timestamps, Base):
    """A user's earnings settings. Absent until first changed; readers fall back to defaults."""

    __tablename__ = "earnings_profiles"
    __table_args__ = (CheckConstraint(_one_of("plan", PLANS), name="plan"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    plan: Mapped[str] = mapped_column(String(16), default="FREE")
    default_currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))


class Platform(UUIDPrimaryKey, Timestamps, Base):
    """Where a freelancer earns. Archived, never deleted: its earnings stay in the history."""

    __tablename__ = "earning_platforms"
    __table_args__ = (Index("ix_earning_platforms_user_created", "user_id", "created_at", "id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str | None] = mapped_column(String(60))
    color: Mapped[str] = mapped_column(String(7))
    archived_at: Mapped[datetime | None]


class Earning(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "earnings"
    __table_args__ = (
        # Lists: a user's earnings newest first (the keyset order).
        Index("ix_earnings_user_date", "user_id", "date", "created_at", "id"),
        # Summaries and goals: one user, one currency, a date range. It carries every column they
        # read, so they are answered from the index alone (PostgreSQL and SQLite alike).
        Index("ix_earnings_user_currency_date", "user_id", "currency", "date", "platform_id", "amount_minor",
              "hours_centi"),
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        CheckConstraint("hours_centi IS NULL OR hours_centi >= 0", name="hours_not_negative"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("earning_platforms.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Hundredths of an hour; None when the freelancer did not track time.
    hours_centi: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(2000))


class Goal(UUIDPrimaryKey, Timestamps, Base):
    """Earn `target_minor` of `currency` between `starts_on` and `deadline` (both inclusive)."""

    __tablename__ = "earning_goals"
    __table_args__ = (
        Index("ix_earning_goals_user_created", "user_id", "created_at", "id"),
        # The deadline job looks for ACTIVE goals whose deadline has passed.
        Index("ix_earning_goals_status_deadline", "status", "deadline"),
        CheckConstraint(_one_of("status", GOAL_STATUSES), name="status"),
        CheckConstraint("target_minor > 0", name="positive_target"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    target_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    completed_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
