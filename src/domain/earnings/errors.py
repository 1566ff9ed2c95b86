"""The codes the earnings client switches on, and the refusals that carry them."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError, NotFound, Problem


class Code(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    PLAN_LIMIT = "PLAN_LIMIT"
    NAME_TAKEN = "NAME_TAKEN"
    PLATFORM_ARCHIVED = "PLATFORM_ARCHIVED"


def refuse(code: Code, message: str, field: str | None = None) -> DomainError:
    return DomainError(Problem(code=code.value, message=message, field=field))


class PlatformNotFound(NotFound):
    def __init__(self, field: str = "id") -> None:
        super().__init__("platform", field=field)


class EarningNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("earning", field="id")


class UserNotFound(NotFound):
    def __init__(self, field: str = "userId") -> None:
        super().__init__("user", field=field)
