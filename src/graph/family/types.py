"""Family types: the Child node and its lists, the stats, and the error type.

Tasks, answers and results live in graph.family.tasks, gifts and points history in
graph.family.gifts; the modules refer to each other lazily (strawberry.lazy).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from db.models.family import FamilyChild
from domain.errors import DomainError
from domain.family.errors import FamilyCode
from domain.family.stats import ChildStats as StatsData
from domain.family.stats import date_range
from graph.errors import BadUserInput, UserError
from graph.family.enums import FamilyErrorCode, GiftStatus, TaskStatus
from graph.family.loaders import (
    ChildrenOfParent,
    GiftsOfChild,
    PostingsOfAccount,
    ResultsOfChild,
    StatsOfChild,
    TasksOfChild,
    VisibleChildById,
)
from graph.node import load_visible_nodes
from graph.pagination import Connection, page_request

if TYPE_CHECKING:
    from graph.family.gifts import Gift, PointsTransaction
    from graph.family.tasks import Task, TaskResult

LazyTask = Annotated["Task", strawberry.lazy("graph.family.tasks")]
LazyTaskResult = Annotated["TaskResult", strawberry.lazy("graph.family.tasks")]
LazyGift = Annotated["Gift", strawberry.lazy("graph.family.gifts")]
LazyPointsTransaction = Annotated["PointsTransaction", strawberry.lazy("graph.family.gifts")]


@strawberry.type(description="A problem with a family mutation's input; nothing was changed by it.")
class FamilyError(UserError):
    codes: ClassVar[type[Enum]] = FamilyCode
    code: FamilyErrorCode  # type: ignore[valid-type]


def _fields(selections: Iterable[Any]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # a fragment: its fields count at this level
            yield from _fields(selection.selections)


def selects(info: Info, *path: str) -> bool:
    """Whether the query selects this path under the current field (through fragments too).

    The answer is the same for every object at this place in the query (its response path
    without list indexes), so the context keeps it, keyed by the operation's identity; the
    operation is kept beside the answer, so its id cannot be reused while the entry exists.
    """
    operation = info.operation
    place = tuple(key for key in info.path.as_list() if isinstance(key, str))
    key = ("selects", id(operation), place, path)
    found = info.context.memo.get(key)
    if found is None:
        found = info.context.memo[key] = (operation, _selects(info, path))
    return found[1]


def _selects(info: Info, path: tuple[str, ...]) -> bool:
    level: list[SelectedField] = list(info.selected_fields)
    for name in path:
        level = [child for field in level for child in _fields(field.selections) if child.name == name]
        if not level:
            return False
    return True



@strawberry.type(description="One day of a child's activity (UTC).")
class DayStats:
    date: date
    attempts: int
    correct_attempts: int
    tasks_completed: int
    points_earned: int


@strawberry.type(description="A child's activity over a range of days (UTC), for the parent dashboard.")
class ChildStats:
    from_: date = strawberry.field(name="from")
    to: date
    tasks_completed: int
    attempts: int
    correct_attempts: int
    accuracy: float | None = strawberry.field(description="Correct attempts / attempts; null without attempts.")
    points_earned: int
    average_seconds_to_solve: float | None = strawberry.field(
        description="From first opening a task to its correct answer; null when none was timed."
    )
    days: list[DayStats] = strawberry.field(description="Every day of the range, oldest first (zeros included).")

    @classmethod
    def from_data(cls, stats: StatsData) -> ChildStats:
        return cls(
            from_=stats.start, to=stats.end, tasks_completed=stats.tasks_completed, attempts=stats.attempts,
            correct_attempts=stats.correct_attempts, accuracy=stats.accuracy, points_earned=stats.points_earned,
            average_seconds_to_solve=stats.average_seconds_to_solve,
            days=[
                DayStats(date=d.day, attempts=d.attempts, correct_attempts=d.correct_attempts,
                         tasks_completed=d.tasks_completed, points_earned=d.points_earned)
                for d in stats.days
            ],
        )


@strawberry.type(description="A child in a family: their parent sees them, and they see themself.")
class Child(relay.Node):
    id: relay.NodeID[str]
    name: str
    username: str = strawberry.field(description="What the child signs in with.")
    birthday: date | None
    points: int = strawberry.field(description="The child's points: their ledger account's balance.")
    created_at: datetime
    child_id: strawberry.Private[uuid.UUID]
    points_account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: FamilyChild) -> Child:
        return cls(
            id=str(row.user_id), name=row.name, username=row.username, birthday=row.birthday, points=row.points,
            created_at=row.created_at, child_id=row.user_id, points_account_id=row.points_account_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Child | None]:
        rows = await load_visible_nodes(info, node_ids, VisibleChildById, key=lambda row: row.user_id)
        return [cls.from_model(row) if row is not None else None for row in rows]

    @strawberry.field(description="The child's tasks, newest first; `status` filters.")
    async def tasks(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, status: TaskStatus | None = None,
    ) -> Connection[LazyTask]:
        from graph.family.tasks import Task

        request = page_request(first, after, last, before)
        key = (self.child_id, status.value if status else None, request)
        page = await info.context.loader(TasksOfChild).load(key)
        return Connection.from_page(page, Task.from_model)

    @strawberry.field(description="Gifts for the child, newest first. The child sees only unlocked and opened ones.")
    async def gifts(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, status: GiftStatus | None = None,
    ) -> Connection[LazyGift]:
        from graph.family.gifts import Gift

        request = page_request(first, after, last, before)
        key = (self.child_id, status.value if status else None, request)
        page = await info.context.loader(GiftsOfChild).load(key)
        return Connection.from_page(page, Gift.from_model)

    @strawberry.field(description="Every answer the child submitted, right or wrong, newest first.")
    async def task_results(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[LazyTaskResult]:
        from graph.family.tasks import TaskResult, results_with_tasks

        page = await info.context.loader(ResultsOfChild).load((self.child_id, page_request(first, after, last, before)))
        tasks = await results_with_tasks(info, page.items) if selects(info, "edges", "node", "task") else {}
        return Connection.from_page(page, lambda row: TaskResult.from_model(row, tasks.get(row.task_id)))

    @strawberry.field(description="Every change to the child's points (their ledger account), newest first.")
    async def points_history(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[LazyPointsTransaction]:
        from graph.family.gifts import PointsTransaction

        request = page_request(first, after, last, before)
        page = await info.context.loader(PostingsOfAccount).load((self.points_account_id, request))
        return Connection.from_page(page, PointsTransaction.from_model)

    @strawberry.field(description="Activity between two days (UTC, both included); the last 30 days by default.")
    async def stats(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> ChildStats:
        try:
            start, end = date_range(from_, to)
        except DomainError as exc:
            raise BadUserInput(str(exc)) from None
        return ChildStats.from_data(await info.context.loader(StatsOfChild).load((self.child_id, start, end)))


async def children_of(info: Info, parent_id: uuid.UUID, first: int | None, after: str | None, last: int | None,
                      before: str | None) -> Connection[Child]:
    page = await info.context.loader(ChildrenOfParent).load((parent_id, page_request(first, after, last, before)))
    return Connection.from_page(page, Child.from_model)
