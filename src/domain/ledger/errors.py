"""The ledger's refusals. Callers (points, wallets, pots) pass the codes on to their clients."""

from __future__ import annotations

import uuid
from enum import StrEnum

from domain.errors import DomainError, NotFound, Problem


class LedgerCode(StrEnum):
    INVALID_ENTRY = "INVALID_ENTRY"
    UNBALANCED_ENTRY = "UNBALANCED_ENTRY"
    INVALID_ASSET = "INVALID_ASSET"
    ASSET_MISMATCH = "ASSET_MISMATCH"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    ALREADY_REVERSED = "ALREADY_REVERSED"
    NOT_REVERSIBLE = "NOT_REVERSIBLE"
    HOLD_NOT_PENDING = "HOLD_NOT_PENDING"


def refused(code: LedgerCode, message: str, field: str | None = None) -> DomainError:
    return DomainError(Problem(code=code.value, message=message, field=field))


class InsufficientFunds(DomainError):
    def __init__(self, account_id: uuid.UUID) -> None:
        self.account_id = account_id
        super().__init__(
            Problem(
                code=LedgerCode.INSUFFICIENT_FUNDS.value, message="The balance does not cover this.", field="amount"
            )
        )


class IdempotencyConflict(DomainError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            Problem(
                code=LedgerCode.IDEMPOTENCY_CONFLICT.value,
                message="This idempotency key was already used for a different entry.",
                field="idempotency_key",
            )
        )


class AccountNotFound(NotFound):
    def __init__(self, account_id: uuid.UUID) -> None:
        self.account_id = account_id
        super().__init__("ledger account", field="account_id")
