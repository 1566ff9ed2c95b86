"""Every job function and cron entry, listed explicitly (no discovery magic).

A job takes `ctx` (with ctx["runtime"]) and ids, re-reads state, and is idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jobs.ledger import verify_ledger

JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class CronEntry:
    function: JobFunction
    minute: int | set[int] | None = None
    hour: int | set[int] | None = None
    # Unique per run: a second process's enqueue of the same tick is a no-op.
    run_at_startup: bool = False


FUNCTIONS: list[JobFunction] = [
    verify_ledger,
]
CRON: list[CronEntry] = [
    # Nightly, in the quiet hour: a read-only snapshot, so it never blocks a posting.
    CronEntry(verify_ledger, minute=17, hour=3),
]


def functions_by_name(functions: list[JobFunction] | None = None) -> dict[str, JobFunction]:
    return {function.__name__: function for function in (functions if functions is not None else FUNCTIONS)}
