"""Family loaders: one class per relation, one statement per batch whatever the batch's size.

Every loader applies the viewer's visibility (domain.family.policies) in its query, so what a
resolver or `node(id:)` gets from it is already something the viewer may see. Paged relations
(a parent's children, a child's tasks, gifts, results, points history) are keyed by
(parent id, filters..., PageRequest) and fetched with one window-function query per distinct
(filters, page) in the batch: the dashboard's 50 children cost what 5 do.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyChild, FamilyGift, FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from db.models.ledger import JournalEntry, JournalPosting
from db.pagination import Page, PageRequest, paginate_many
from domain.family import policies
from domain.family.stats import ChildStats, stats_for
from graph.loaders import Loader


def _by_key(rows: Sequence[Any], keys: list[Any], key: str = "id") -> list[Any]:
    found = {getattr(row, key): row for row in rows}
    return [found.get(k) for k in keys]


class _ById(Loader[uuid.UUID, Any]):
    """Rows by primary key, as far as the viewer may see them."""

    model: Any
    key = "id"

    def visible(self) -> ColumnElement[bool]:
        raise NotImplementedError

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[Any]:
        column = getattr(self.model, self.key)
        rows = await session.scalars(
            select(self.model)
            .where(column.in_(keys), self.visible())
            # A mutation earlier in the request may have changed the row under the identity map.
            .execution_options(populate_existing=True)
        )
        return _by_key(rows.all(), keys, self.key)


class VisibleChildById(_ById):
    model = FamilyChild
    key = "user_id"

    def visible(self) -> ColumnElement[bool]:
        return policies.visible_children(self.context.actor)


class VisibleTaskById(_ById):
    model = FamilyTask

    def visible(self) -> ColumnElement[bool]:
        return policies.visible_tasks(self.context.actor)


class VisibleAnswerById(_ById):
    model = FamilyTaskAnswer

    def visible(self) -> ColumnElement[bool]:
        return policies.visible_answers(self.context.actor)


class VisibleAttemptById(_ById):
    model = FamilyTaskAttempt

    def visible(self) -> ColumnElement[bool]:
        return policies.visible_attempts(self.context.actor)


class VisibleGiftById(_ById):
    model = FamilyGift

    def visible(self) -> ColumnElement[bool]:
        return policies.visible_gifts(self.context.actor)


class AnswersOfTask(Loader[uuid.UUID, list[FamilyTaskAnswer]]):
    """A task's answers in the order the parent gave them (the task itself was visible)."""

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[list[FamilyTaskAnswer]]:
        rows = await session.scalars(
            select(FamilyTaskAnswer)
            .where(FamilyTaskAnswer.task_id.in_(keys))
            .order_by(FamilyTaskAnswer.task_id, FamilyTaskAnswer.position)
        )
        grouped: dict[uuid.UUID, list[FamilyTaskAnswer]] = defaultdict(list)
        for row in rows:
            grouped[row.task_id].append(row)
        return [grouped.get(key, []) for key in keys]


class _Paged(Loader[tuple[Any, ...], Page[Any]]):
    """Keys are (parent id, *filters, PageRequest); one statement per distinct (filters, request)."""

    # Read through the class: a mapped attribute read through an instance acts as a descriptor.
    partition: Any
    order_by: list[Any]
    descending = True

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        raise NotImplementedError

    async def fetch(self, session: AsyncSession, keys: list[tuple[Any, ...]]) -> list[Page[Any]]:
        partition = type(self).partition
        groups: dict[tuple[Hashable, ...], list[Any]] = defaultdict(list)
        for parent, *rest in keys:
            groups[tuple(rest)].append(parent)
        pages: dict[tuple[Any, ...], Page[Any]] = {}
        for rest, parents in groups.items():
            *filters, request = rest
            statement = self.statement(parents, *filters)
            found = await paginate_many(
                session, statement, self.order_by, request, partition_by=partition, descending=self.descending
            )
            missing = [parent for parent in parents if parent not in found]
            cursor = request.after is not None or request.before is not None
            totals = await self._totals(session, statement, partition, missing) if missing and cursor else {}
            for parent in parents:
                pages[(parent, *rest)] = found.get(parent) or _empty(request, totals.get(parent, 0))
        return [pages[key] for key in keys]

    @staticmethod
    async def _totals(
        session: AsyncSession, statement: Select[Any], partition: Any, parents: list[Any]
    ) -> dict[Any, int]:
        # A cursor past the last row leaves a parent out of the ranked query, and its total with it.
        sub = statement.where(partition.in_(parents)).subquery()
        column = sub.c[partition.key]
        rows = await session.execute(select(column, func.count()).group_by(column))
        return {parent: int(total) for parent, total in rows}


def _empty(request: PageRequest, total: int) -> Page[Any]:
    return Page(total=total, has_previous=request.after is not None, has_next=request.before is not None)


class ChildrenOfParent(_Paged):
    partition = FamilyChild.parent_id
    order_by = [FamilyChild.created_at, FamilyChild.user_id]
    descending = False

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        return select(FamilyChild).where(
            FamilyChild.parent_id.in_(parents), policies.visible_children(self.context.actor)
        )


class TasksOfChild(_Paged):
    partition = FamilyTask.child_id
    order_by = [FamilyTask.created_at, FamilyTask.id]

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        (status,) = filters
        statement = select(FamilyTask).where(FamilyTask.child_id.in_(parents))
        return statement.where(FamilyTask.status == status) if status is not None else statement


class GiftsOfChild(_Paged):
    partition = FamilyGift.child_id
    order_by = [FamilyGift.created_at, FamilyGift.id]

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        (status,) = filters
        # The child's own view leaves SENT gifts out here too, before counting or paging.
        statement = select(FamilyGift).where(
            FamilyGift.child_id.in_(parents), policies.visible_gifts(self.context.actor)
        )
        return statement.where(FamilyGift.status == status) if status is not None else statement


class ResultsOfChild(_Paged):
    partition = FamilyTaskAttempt.child_id
    order_by = [FamilyTaskAttempt.created_at, FamilyTaskAttempt.id]

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        return select(FamilyTaskAttempt).where(FamilyTaskAttempt.child_id.in_(parents))


class PostingsOfAccount(_Paged):
    """A points account's ledger postings, newest first (its version orders them)."""

    partition = JournalPosting.account_id
    order_by = [JournalPosting.version]

    def statement(self, parents: list[Any], *filters: Any) -> Select[Any]:
        return select(JournalPosting).where(JournalPosting.account_id.in_(parents))


class EntryById(Loader[uuid.UUID, Any]):
    """A posting's entry: why the points moved (reason, memo)."""

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[Any]:
        entries = JournalEntry.__table__
        rows = (
            await session.execute(
                select(entries.c.id, entries.c.reason, entries.c.memo).where(entries.c.id.in_(keys))
            )
        ).all()
        return _by_key(rows, keys)


class VisiblePosting(Loader[tuple[uuid.UUID, int], Any]):
    """A posting of a visible child's points account, by (account id, version)."""

    async def fetch(self, session: AsyncSession, keys: list[tuple[uuid.UUID, int]]) -> list[Any]:
        accounts = select(FamilyChild.points_account_id).where(policies.visible_children(self.context.actor))
        wanted = or_(*(and_(JournalPosting.account_id == a, JournalPosting.version == v) for a, v in keys))
        rows = await session.scalars(select(JournalPosting).where(wanted, JournalPosting.account_id.in_(accounts)))
        found = {(row.account_id, row.version): row for row in rows}
        return [found.get(key) for key in keys]


class StatsOfChild(Loader[tuple[uuid.UUID, date, date], ChildStats]):
    """Stats keyed by (child id, first day, last day); one aggregate pair per distinct range."""

    async def fetch(self, session: AsyncSession, keys: list[tuple[uuid.UUID, date, date]]) -> list[ChildStats]:
        ranges: dict[tuple[date, date], list[uuid.UUID]] = defaultdict(list)
        for child_id, start, end in keys:
            ranges[(start, end)].append(child_id)
        found: dict[tuple[uuid.UUID, date, date], ChildStats] = {}
        for (start, end), child_ids in ranges.items():
            for child_id, stats in (await stats_for(session, child_ids, start, end)).items():
                found[(child_id, start, end)] = stats
        return [found[key] for key in keys]
