"""Typed domain errors: a code the client switches on, the input field at fault, a message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str | None = None


class DomainError(Exception):
    """A refused operation. Carries one or more problems; the caller rolls its writes back."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("a DomainError needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in problems))

    @classmethod
    def of(cls, code: str, message: str, field: str | None = None) -> DomainError:
        return cls(Problem(code=code, message=message, field=field))

    @property
    def code(self) -> str:
        return self.problems[0].code


class NotFound(DomainError):
    """Missing, or not the actor's to see: the two look alike on purpose."""

    def __init__(self, what: str = "object", field: str | None = "id") -> None:
        super().__init__(Problem(code="NOT_FOUND", message=f"No such {what}.", field=field))


class Validator:
    """Collects every input problem at once, so the client can mark all fields in one round trip."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def check(self, ok: bool, field: str, message: str, code: str = "INVALID") -> bool:
        if not ok:
            self.problems.append(Problem(code=code, message=message, field=field))
        return ok

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError(*self.problems)
