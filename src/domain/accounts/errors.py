"""The codes the client switches on, and the two kinds of refusal particular to accounts."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError, Problem


class Code(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_TOKEN = "INVALID_TOKEN"
    INVALID_OTP = "INVALID_OTP"
    OTP_EXPIRED = "OTP_EXPIRED"
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


def refuse(code: Code, message: str, field: str | None = None) -> DomainError:
    return DomainError(Problem(code=code.value, message=message, field=field))


class AttemptRefused(DomainError):
    """A refused attempt whose record must stand: a failed-password count, a wrong OTP code, a
    reused refresh token revoking its sign-in. Raising an ordinary DomainError would roll the
    record back with the rest, and an attacker could retry for free; the caller keeps (and
    commits) what was written before this is raised.
    """

    @classmethod
    def of(cls, code: str, message: str, field: str | None = None) -> AttemptRefused:
        return cls(Problem(code=str(code), message=message, field=field))


class TooManyAttempts(Exception):
    """A rate limit is spent; the caller answers RATE_LIMITED with `retry_after` seconds."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(f"rate limit {limit} reached; retry after {retry_after}s")
        self.limit = limit
        self.retry_after = retry_after
