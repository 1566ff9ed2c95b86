"""The double-entry ledger: accounts, journal entries and their postings, holds, verify runs.

Entries and postings are append-only: nothing updates or deletes them (a correction is a new,
reversing entry). An account's `balance` and `version` are a cache of its postings, changed only
by domain.ledger under a row lock; `tally ledger verify` recomputes them from the postings.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow

# Nullable owner ids are distinct from each other in a UNIQUE constraint (PostgreSQL and SQLite
# alike), so platform accounts (no owner id) get their own partial unique index.
_PLATFORM_OWNER = text("owner_id IS NULL")


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "asset", "kind"),
        Index(
            "uq_ledger_accounts_ownerless",
            "owner_type",
            "asset",
            "kind",
            unique=True,
            postgresql_where=_PLATFORM_OWNER,
            sqlite_where=_PLATFORM_OWNER,
        ),
        # The last line of defence: even a bug in the service cannot overdraw a plain account.
        CheckConstraint("allow_negative OR balance >= 0", name="non_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[uuid.UUID | None]
    asset: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    allow_negative: Mapped[bool] = mapped_column(default=False)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # How many postings the account has; a posting's version is the account's version after it.
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JournalEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index(None, "reference_type", "reference_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # A hash of the postings, so a replayed key is compared without loading them.
    fingerprint: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str | None] = mapped_column(String(500))
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    # Unique: an entry is reversed at most once, whatever key the second attempt carries.
    reverses_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[JournalPosting]] = relationship(back_populates="entry", lazy="raise")


class JournalPosting(Base):
    """One line of an entry. Keyed by (account, version): an account's history in order."""

    __tablename__ = "ledger_postings"
    __table_args__ = (CheckConstraint("amount <> 0", name="non_zero"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(8))
    balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings", lazy="raise")


class LedgerHold(Base):
    """Funds reserved by an entry into the owner's holds account, later captured or voided."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status"),
        CheckConstraint("amount > 0 AND captured_amount >= 0 AND captured_amount <= amount", name="amounts"),
        Index(None, "account_id", "status"),
        Index(None, "holding_account_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    holding_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    asset: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    place_entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    settle_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(64))
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


class LedgerVerifyRun(Base):
    """A recorded `verify` (the nightly job writes one): what admin tools read and alert on."""

    __tablename__ = "ledger_verify_runs"
    __table_args__ = (Index(None, "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]
    violation_count: Mapped[int]
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
