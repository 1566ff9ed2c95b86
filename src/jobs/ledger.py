"""Ledger jobs: the nightly verify of the whole book."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from db.unit_of_work import transaction
from domain.ledger.report import VerifyReport
from domain.ledger.verify import record_run, run_verify

log = logging.getLogger(__name__)


async def verify_ledger(ctx: dict[str, Any]) -> dict[str, Any]:
    """Verify the ledger, store the result (ledger_verify_runs) and raise the alarm on a violation.

    Read-only on the book and safe to run twice: each run only adds its own result row.
    """
    runtime = ctx["runtime"]
    report = await run_verify(runtime.database)
    async with transaction(runtime.database) as session:
        run = await record_run(session, report)
    if report.ok:
        log.info("ledger verify: ok (%s)", ", ".join(f"{n} {name}" for name, n in report.totals.items()))
    else:
        log.error(
            "ledger verify FAILED: %d violation(s) in %s; run %s has the details",
            report.violation_count,
            ", ".join(report.failed_checks()),
            run.id,
        )
        await notify_admins_of_failed_verify(runtime, run.id, report)
    return {"ok": report.ok, "violations": report.violation_count, "run_id": str(run.id)}


async def notify_admins_of_failed_verify(runtime: Any, run_id: uuid.UUID, report: VerifyReport) -> None:
    """The admins' alarm. The notifications domain plugs in here (in-app, email, SMS to staff).

    Until then the alarm is the ERROR log line above plus the stored run, which admin tools read
    with domain.ledger.latest_run().
    """
