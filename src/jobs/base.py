"""What a job is: its options, and a cron entry saying when it runs.

A job takes `ctx` (with ctx["runtime"], ctx["job_try"], ctx["job_id"]) and ids, re-reads state,
and is idempotent: running it twice changes nothing the second time. A transient failure raises
`arq.Retry(defer=runtime.backoff.delay(attempt))`; ARQ and the in-process queue both honour it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

JobFunction = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=JobFunction)

DEFAULT_MAX_TRIES = 5


def job(*, max_tries: int = DEFAULT_MAX_TRIES) -> Callable[[F], F]:
    """Per-function options, read by the worker and the in-process queue alike."""

    def mark(function: F) -> F:
        function.max_tries = max_tries  # type: ignore[attr-defined]
        return function

    return mark


def max_tries_of(function: JobFunction) -> int:
    return getattr(function, "max_tries", DEFAULT_MAX_TRIES)


Field = int | frozenset[int] | None


def _matches(field: Field, value: int) -> bool:
    if field is None:
        return True
    if isinstance(field, int):
        return field == value
    return value in field


@dataclass(frozen=True)
class CronEntry:
    """When to enqueue a job, in UTC; None means every value (like ARQ's `cron`)."""

    function: JobFunction
    minute: Field = None
    hour: Field = None
    day: Field = None
    weekday: Field = None  # Monday is 0
    run_at_startup: bool = False

    @property
    def name(self) -> str:
        return self.function.__name__

    def matches(self, moment: datetime) -> bool:
        return (
            _matches(self.minute, moment.minute)
            and _matches(self.hour, moment.hour)
            and _matches(self.day, moment.day)
            and _matches(self.weekday, moment.weekday())
        )

    def arq_options(self) -> dict[str, Any]:
        options = {"minute": self.minute, "hour": self.hour, "day": self.day, "weekday": self.weekday}
        return {key: (set(value) if isinstance(value, frozenset) else value) for key, value in options.items()}
