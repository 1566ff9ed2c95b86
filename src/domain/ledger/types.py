"""What callers hand the ledger (specs) and what it hands back (read-only views)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OwnerType(StrEnum):
    USER = "user"
    CHILD = "child"
    GROUP = "group"
    PLATFORM = "platform"


class AccountKind(StrEnum):
    """Common kinds; any lowercase name works, these keep the spelling in one place."""

    POINTS = "points"
    WALLET = "wallet"
    GROUP_POT = "group_pot"
    FEES = "fees"
    CLEARING = "clearing"
    EXTERNAL = "external"
    # Reserved: where holds park funds (see domain.ledger.holds).
    HOLDS = "holds"


@dataclass(frozen=True)
class PostingSpec:
    """Move `amount` (signed, minor units or points) into (+) or out of (-) an account."""

    account_id: uuid.UUID
    amount: int
    asset: str


@dataclass(frozen=True)
class EntrySpec:
    idempotency_key: str
    reason: str
    postings: Sequence[PostingSpec]
    memo: str | None = None
    reference_type: str | None = None
    reference_id: str | None = None
    # Set by ledger.reverse(): an entry is reversed at most once.
    reverses_entry_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Posting:
    account_id: uuid.UUID
    amount: int
    asset: str
    balance_after: int
    version: int


@dataclass(frozen=True)
class Entry:
    id: uuid.UUID
    idempotency_key: str
    reason: str
    memo: str | None
    reference_type: str | None
    reference_id: str | None
    reverses_entry_id: uuid.UUID | None
    created_at: datetime
    postings: tuple[Posting, ...]
    # True when this call found the key already used: the first entry, nothing written now.
    replayed: bool = False

    def posting_for(self, account_id: uuid.UUID) -> Posting:
        return next(p for p in self.postings if p.account_id == account_id)


@dataclass(frozen=True)
class Balance:
    account_id: uuid.UUID
    asset: str
    # What can be spent now; funds under pending holds are already out of it.
    available: int
    held: int = 0

    @property
    def total(self) -> int:
        """Available plus held: what the owner has until the holds settle."""
        return self.available + self.held
