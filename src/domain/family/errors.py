"""The codes a family client switches on, and how refusals are raised."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError, Problem


class FamilyCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    ALREADY_COMPLETED = "ALREADY_COMPLETED"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    NOT_UNLOCKED = "NOT_UNLOCKED"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"


def refuse(code: FamilyCode, message: str, field: str | None = None) -> DomainError:
    return DomainError(Problem(code=code.value, message=message, field=field))


def not_found(what: str, field: str | None) -> DomainError:
    """Missing, or someone else's: the two answer alike."""
    return refuse(FamilyCode.NOT_FOUND, f"No such {what}.", field)


def as_family_problems(error: DomainError) -> DomainError:
    """Another domain's refusal (accounts, ledger) in family codes; unknown codes become INVALID."""
    known = {code.value for code in FamilyCode}
    return DomainError(
        *(
            p if p.code in known else Problem(code=FamilyCode.INVALID.value, message=p.message, field=p.field)
            for p in error.problems
        )
    )
