"""Answering a task: every attempt is recorded; the first correct one completes the task and
pays its reward once, through the ledger, and unlocks any gift the new balance reaches.

Paying once holds under concurrency twice over: the task row is locked before its status is
read (a second submission waits, then sees COMPLETED), and the reward's ledger entry is keyed
by the task id (a replay writes nothing). SQLite serializes writers anyway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyChild, FamilyGift, FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from domain.actor import Actor
from domain.family import gifts, notices, points
from domain.family.errors import FamilyCode, not_found, refuse
from domain.family.tasks import COMPLETED, childs_task
from tally.clock import clock


@dataclass
class Submission:
    attempt: FamilyTaskAttempt
    task: FamilyTask
    child_id: uuid.UUID
    unlocked_gifts: list[FamilyGift] = field(default_factory=list)


def _already_completed() -> Exception:
    return refuse(FamilyCode.ALREADY_COMPLETED, "This task is already completed.", "taskId")


async def submit_answer(
    session: AsyncSession, actor: Actor, task_id: uuid.UUID | None, answer_id: uuid.UUID | None
) -> Submission:
    task = await childs_task(session, actor, task_id, lock=True)
    if task.status == COMPLETED:
        raise _already_completed()
    answer = None
    if answer_id is not None:
        answer = await session.scalar(
            select(FamilyTaskAnswer).where(FamilyTaskAnswer.id == answer_id, FamilyTaskAnswer.task_id == task.id)
        )
    if answer is None:
        raise not_found("answer", "answerId")

    now = clock.now()
    if task.opened_at is None:
        # Answered without being opened first: it counts as opened now, with no time to report.
        task.opened_at = now
        seconds = None
    else:
        seconds = max(0, int((now - task.opened_at).total_seconds()))
    attempt = FamilyTaskAttempt(
        id=uuid.uuid4(), task_id=task.id, child_id=task.child_id, answer_id=answer.id, correct=answer.correct,
        points_earned=task.points_reward if answer.correct else 0, time_taken_seconds=seconds, created_at=now,
    )
    session.add(attempt)
    submission = Submission(attempt=attempt, task=task, child_id=task.child_id)
    if not answer.correct:
        await session.flush()
        await notices.try_again(session, task)
        return submission

    task.status = COMPLETED
    task.completed_at = now
    await session.flush()
    # The child row's lock orders this credit with sendGift's threshold check.
    child = await session.scalar(
        select(FamilyChild).where(FamilyChild.user_id == task.child_id).with_for_update(of=FamilyChild)
        .execution_options(populate_existing=True)
    )
    assert child is not None, "a task's child is deleted with it"
    entry = await points.pay_task_reward(session, task.id, child.points_account_id, task.points_reward, task.question)
    if entry.replayed:
        # Paid by an earlier transaction: only possible if the row lock was bypassed.
        raise _already_completed()
    balance = entry.posting_for(child.points_account_id).balance_after
    submission.unlocked_gifts = await gifts.unlock_reached(session, child, balance)
    await notices.task_completed(session, task, child.name)
    return submission
