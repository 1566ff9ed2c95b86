"""Quiz tasks: a parent sets one for their child, the child opens it.

A task is a question with 2 to 6 answers, exactly one of them correct, and a reward of 1 to
10,000 points paid once, on the first correct answer (domain.family.answers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyTask, FamilyTaskAnswer
from domain.actor import Actor
from domain.errors import DomainError, Validator
from domain.family import notices
from domain.family.children import managed_child
from domain.family.errors import not_found
from tally.clock import clock

PENDING = "PENDING"
COMPLETED = "COMPLETED"
MIN_ANSWERS, MAX_ANSWERS = 2, 6
MIN_REWARD, MAX_REWARD = 1, 10_000
MAX_QUESTION = 1000
MAX_ANSWER = 500
MAX_SUBJECT = 100


@dataclass(frozen=True)
class NewAnswer:
    text: str
    correct: bool


@dataclass(frozen=True)
class NewTask:
    child_id: uuid.UUID | None
    question: str
    answers: list[NewAnswer] = field(default_factory=list)
    points_reward: int = 0
    subject: str | None = None


def _validate(data: NewTask) -> tuple[Validator, str, list[str], str | None]:
    check = Validator()
    question = data.question.strip()
    check.check(0 < len(question) <= MAX_QUESTION, "question", f"Ask a question of 1 to {MAX_QUESTION} characters.")
    texts = [answer.text.strip() for answer in data.answers]
    if check.check(MIN_ANSWERS <= len(texts) <= MAX_ANSWERS, "answers",
                   f"Give {MIN_ANSWERS} to {MAX_ANSWERS} answers."):
        for index, text in enumerate(texts):
            check.check(0 < len(text) <= MAX_ANSWER, f"answers.{index}.text",
                        f"Each answer needs 1 to {MAX_ANSWER} characters.")
        check.check(sum(1 for answer in data.answers if answer.correct) == 1, "answers",
                    "Mark exactly one answer as correct.")
        check.check(len({text.lower() for text in texts}) == len(texts), "answers", "Give different answers.")
    check.check(MIN_REWARD <= data.points_reward <= MAX_REWARD, "pointsReward",
                f"The reward is {MIN_REWARD} to {MAX_REWARD:,} points.")
    subject = (data.subject or "").strip() or None
    if subject is not None:
        check.check(len(subject) <= MAX_SUBJECT, "subject", f"Use at most {MAX_SUBJECT} characters.")
    return check, question, texts, subject


async def create_task(session: AsyncSession, actor: Actor, data: NewTask) -> FamilyTask:
    check, question, texts, subject = _validate(data)
    try:
        child = await managed_child(session, actor, data.child_id)
    except DomainError as missing:
        # One round trip tells the client every problem, the unknown child among them.
        raise DomainError(*missing.problems, *check.problems) from None
    check.raise_if_any()
    now = clock.now()
    task = FamilyTask(
        id=uuid.uuid4(), child_id=child.user_id, parent_id=child.parent_id, question=question, subject=subject,
        points_reward=data.points_reward, status=PENDING, created_at=now, updated_at=now,
    )
    session.add(task)
    await session.flush()
    session.add_all(
        FamilyTaskAnswer(task_id=task.id, position=position, text=text, correct=answer.correct)
        for position, (text, answer) in enumerate(zip(texts, data.answers, strict=True))
    )
    await session.flush()
    await notices.task_created(session, task)
    return task


async def childs_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID | None, lock: bool = False) -> FamilyTask:
    """A task of the signed-in child's own, fresh from the database (locked if asked)."""
    if task_id is None or actor.user_id is None:
        raise not_found("task", "taskId")
    query = select(FamilyTask).where(FamilyTask.id == task_id, FamilyTask.child_id == actor.user_id)
    if lock:
        query = query.with_for_update()
    task = await session.scalar(query.execution_options(populate_existing=True))
    if task is None:
        raise not_found("task", "taskId")
    return task


async def open_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID | None) -> FamilyTask:
    """Mark when the child first opened the task (the clock for time-to-solve starts here)."""
    task = await childs_task(session, actor, task_id)
    if task.opened_at is None:
        # Conditional: two devices opening at once keep the earlier time.
        await session.execute(
            update(FamilyTask)
            .where(FamilyTask.id == task.id, FamilyTask.opened_at.is_(None))
            .values(opened_at=clock.now(), updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        task = await childs_task(session, actor, task.id)
    return task
