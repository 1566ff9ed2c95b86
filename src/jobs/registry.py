"""Every job function and cron entry, listed explicitly (no discovery magic).

A new job module adds its functions to FUNCTIONS and its schedules to CRON here; the ARQ worker
and the in-process queue read the same lists, so the embedded default runs the same jobs.
"""

from __future__ import annotations

from jobs import outbox
from jobs.base import CronEntry, JobFunction
from jobs.earnings import mark_missed_earning_goals
from jobs.ledger import verify_ledger

FUNCTIONS: list[JobFunction] = [
    outbox.deliver_message,
    outbox.sweep_outbox,
    verify_ledger,
    mark_missed_earning_goals,
]

CRON: list[CronEntry] = [
    # Every minute: re-drive messages whose delivery job was lost (Redis down, process killed).
    CronEntry(outbox.sweep_outbox),
    # Nightly, in the quiet hour: a read-only snapshot, so it never blocks a posting.
    CronEntry(verify_ledger, minute=17, hour=3),
    # Goal deadlines: each goal is checked against midnight in its owner's timezone, so the daily
    # check runs every hour (at :05) to meet every timezone's midnight within the hour.
    CronEntry(mark_missed_earning_goals, minute=5),
]


def functions_by_name(functions: list[JobFunction] | None = None) -> dict[str, JobFunction]:
    return {function.__name__: function for function in (functions if functions is not None else FUNCTIONS)}
