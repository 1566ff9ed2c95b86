"""Earnings jobs: goals whose deadline has passed become MISSED."""

from __future__ import annotations

import logging
from typing import Any

from db.unit_of_work import transaction
from domain.earnings.goals import mark_missed_goals
from tally.clock import clock

log = logging.getLogger(__name__)


async def mark_missed_earning_goals(ctx: dict[str, Any]) -> dict[str, int]:
    """Mark every ACTIVE goal whose deadline has ended in its owner's timezone MISSED, and notify.

    Idempotent: a goal is marked (and its owner notified) once; a second run finds nothing to
    do. Each batch commits on its own, so a failure part way keeps the batches already done.
    """
    runtime = ctx["runtime"]
    now = clock.now()
    marked = 0
    after = None
    while True:
        async with transaction(runtime.database) as session:
            batch = await mark_missed_goals(session, now, after=after)
        marked += len(batch.marked)
        if batch.resume_after is None:
            break
        after = batch.resume_after
    if marked:
        log.info("earnings: %d goal(s) missed their deadline", marked)
    return {"marked": marked}
