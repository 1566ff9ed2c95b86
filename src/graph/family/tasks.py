"""Task types: the task, its answers (which one is correct only for the parent) and results."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.models.family import FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from domain.family.policies import sees_correct_answer
from graph.family.enums import TaskStatus
from graph.family.loaders import (
    AnswersOfTask,
    VisibleAnswerById,
    VisibleAttemptById,
    VisibleChildById,
    VisibleTaskById,
)
from graph.family.types import Child
from graph.node import parse_uuid


@strawberry.type(description="One of a task's answers. `correct` is null for the child, always.")
class TaskAnswer(relay.Node):
    id: relay.NodeID[str]
    text: str
    correct: bool | None

    @classmethod
    def from_model(cls, row: FamilyTaskAnswer, show_correct: bool) -> TaskAnswer:
        return cls(id=str(row.id), text=row.text, correct=row.correct if show_correct else None)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TaskAnswer | None]:
        ids = [parse_uuid(node_id) for node_id in node_ids]
        answers = await info.context.loader(VisibleAnswerById).load_many([i for i in ids if i is not None])
        by_id = {row.id: row for row in answers if row is not None}
        tasks = await info.context.loader(VisibleTaskById).load_many(list({row.task_id for row in by_id.values()}))
        parents = {task.id: task.parent_id for task in tasks if task is not None}
        actor = info.context.actor
        return [
            cls.from_model(by_id[i], sees_correct_answer(actor, parents[by_id[i].task_id]))
            if i in by_id and by_id[i].task_id in parents else None
            for i in ids
        ]


@strawberry.type(description="A quiz task a parent set for their child.")
class Task(relay.Node):
    id: relay.NodeID[str]
    question: str
    subject: str | None
    points_reward: int
    status: TaskStatus
    created_at: datetime
    opened_at: datetime | None = strawberry.field(description="When the child first opened it.")
    completed_at: datetime | None
    task_id: strawberry.Private[uuid.UUID]
    child_id: strawberry.Private[uuid.UUID]
    parent_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: FamilyTask) -> Task:
        return cls(
            id=str(row.id), question=row.question, subject=row.subject, points_reward=row.points_reward,
            status=TaskStatus(row.status), created_at=row.created_at, opened_at=row.opened_at,
            completed_at=row.completed_at, task_id=row.id, child_id=row.child_id, parent_id=row.parent_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Task | None]:
        ids = [parse_uuid(node_id) for node_id in node_ids]
        found = await info.context.loader(VisibleTaskById).load_many([i for i in ids if i is not None])
        by_id = {row.id: row for row in found if row is not None}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]

    @strawberry.field(description="In the order the parent gave them.")
    async def answers(self, info: Info) -> list[TaskAnswer]:
        rows = await info.context.loader(AnswersOfTask).load(self.task_id)
        show = sees_correct_answer(info.context.actor, self.parent_id)
        return [TaskAnswer.from_model(row, show) for row in rows]

    @strawberry.field
    async def child(self, info: Info) -> Child:
        return Child.from_model(await info.context.loader(VisibleChildById).load(self.child_id))


@strawberry.type(description="One submitted answer: right or wrong, the points it earned, the time it took.")
class TaskResult(relay.Node):
    id: relay.NodeID[str]
    correct: bool
    points_earned: int = strawberry.field(description="The task's reward on the answer that completed it, else 0.")
    completed_at: datetime = strawberry.field(description="When the answer was submitted.")
    time_taken_seconds: int | None = strawberry.field(
        description="Seconds since the child first opened the task; null if it was answered unopened."
    )
    task_id: strawberry.Private[uuid.UUID]
    answer_id: strawberry.Private[uuid.UUID]
    # Set when a page of results loaded its tasks in one batch ahead (see Child.task_results).
    loaded_task: strawberry.Private[Task | None] = None

    @classmethod
    def from_model(cls, row: FamilyTaskAttempt, task: Task | None = None) -> TaskResult:
        return cls(
            id=str(row.id), correct=row.correct, points_earned=row.points_earned, completed_at=row.created_at,
            time_taken_seconds=row.time_taken_seconds, task_id=row.task_id, answer_id=row.answer_id,
            loaded_task=task,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TaskResult | None]:
        ids = [parse_uuid(node_id) for node_id in node_ids]
        found = await info.context.loader(VisibleAttemptById).load_many([i for i in ids if i is not None])
        by_id = {row.id: row for row in found if row is not None}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]

    @strawberry.field
    def task(self, info: Info) -> Task:
        # Sync when the task came with the page: hundreds of results then cost no coroutine each.
        if self.loaded_task is not None:
            return self.loaded_task
        return self._load_task(info)  # type: ignore[return-value]  # an awaitable; GraphQL awaits it

    async def _load_task(self, info: Info) -> Task:
        return Task.from_model(await info.context.loader(VisibleTaskById).load(self.task_id))

    @strawberry.field(description="The answer chosen.")
    async def answer(self, info: Info) -> TaskAnswer:
        task = await info.context.loader(VisibleTaskById).load(self.task_id)
        answer = await info.context.loader(VisibleAnswerById).load(self.answer_id)
        return TaskAnswer.from_model(answer, sees_correct_answer(info.context.actor, task.parent_id))


async def results_with_tasks(info: Info, rows: list[FamilyTaskAttempt]) -> dict[uuid.UUID, Task]:
    """The tasks of a page of results, loaded in one batch with every other page's."""
    tasks = await info.context.loader(VisibleTaskById).load_many(list({row.task_id for row in rows}))
    return {task.id: Task.from_model(task) for task in tasks if task is not None}
