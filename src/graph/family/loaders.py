"""Family loaders: one class per relation, one statement per batch whatever the batch's size.

Every loader applies the viewer's visibility (domain.family.policies) in its query, so what a
resolver or `node(id:)` gets from it is already something the viewer may see. Paged relations
hang off a Child the viewer was already allowed to see; they are keyed by (child id,
filters..., PageRequest) and fetched with one ranked query per distinct (filters, page) in the
batch (graph.family.paging): the dashboard's 50 children cost what 5 do. Loaders return Core
rows (read fresh, attribute access like the models), which the types convert.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyChild, FamilyGift, FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from db.models.ledger import JournalEntry, JournalPosting
from db.pagination import Page, PageRequest, records, row_columns
from domain.family import policies
from domain.family.stats import ChildStats, stats_for
from graph.family.paging import Relation, pages_of
from graph.loaders import Loader


def _by_key(rows: Any, keys: list[Any], key: str = "id") -> list[Any]:
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
        rows = records(await session.execute(select(*row_columns(self.model)).where(column.in_(keys), self.visible())))
        return _by_key(rows, keys, self.key)


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


class AnswersOfTask(Loader[uuid.UUID, list[Any]]):
    """A task's answers in the order the parent gave them (the task itself was visible)."""

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[list[Any]]:
        rows = records(await session.execute(
            select(*row_columns(FamilyTaskAnswer))
            .where(FamilyTaskAnswer.task_id.in_(keys))
            .order_by(FamilyTaskAnswer.task_id, FamilyTaskAnswer.position)
        ))
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row.task_id].append(row)
        return [grouped.get(key, []) for key in keys]


class _Paged(Loader[tuple[Any, ...], Page[Any]]):
    """Keys are (parent id, *filter values, PageRequest); one statement per distinct rest-of-key."""

    relation: Relation

    def conditions(self) -> tuple[tuple[ColumnElement[bool], ...], Hashable]:
        """Conditions of the viewer's (constant per key returned), beyond the parents' own visibility."""
        return (), None

    async def fetch(self, session: AsyncSession, keys: list[tuple[Any, ...]]) -> list[Page[Any]]:
        groups: dict[tuple[Hashable, ...], list[Any]] = defaultdict(list)
        for parent, *rest in keys:
            groups[tuple(rest)].append(parent)
        names = [name for name, _ in self.relation.filters]
        extra, extra_key = self.conditions()
        pages: dict[tuple[Any, ...], Page[Any]] = {}
        for rest, parents in groups.items():
            *values, request = rest
            found = await pages_of(session, self.relation, parents, request, dict(zip(names, values, strict=True)),
                                   extra, extra_key)
            missing = [parent for parent in parents if parent not in found]
            cursor = request.after is not None or request.before is not None
            totals = await self._totals(session, missing, dict(zip(names, values, strict=True)), extra) \
                if missing and cursor else {}
            for parent in parents:
                pages[(parent, *rest)] = found.get(parent) or _empty(request, totals.get(parent, 0))
        return [pages[key] for key in keys]

    async def _totals(
        self, session: AsyncSession, parents: list[Any], filters: dict[str, Any], extra: tuple[Any, ...]
    ) -> dict[Any, int]:
        # A cursor past the last row leaves a parent out of the ranked query, and its total with it.
        partition = self.relation.partition
        columns = dict(self.relation.filters)
        statement = (
            select(partition, func.count())
            .where(partition.in_(parents), *extra)
            .where(*(columns[name] == value for name, value in filters.items() if value is not None))
            .group_by(partition)
        )
        return {parent: int(total) for parent, total in await session.execute(statement)}


def _empty(request: PageRequest, total: int) -> Page[Any]:
    return Page(total=total, has_previous=request.after is not None, has_next=request.before is not None)


class ChildrenOfParent(_Paged):
    relation = Relation("children", FamilyChild, FamilyChild.parent_id,
                        (FamilyChild.created_at, FamilyChild.user_id), descending=False)


class TasksOfChild(_Paged):
    relation = Relation("tasks", FamilyTask, FamilyTask.child_id, (FamilyTask.created_at, FamilyTask.id),
                        filters=(("status", FamilyTask.status),))


class GiftsOfChild(_Paged):
    relation = Relation("gifts", FamilyGift, FamilyGift.child_id, (FamilyGift.created_at, FamilyGift.id),
                        filters=(("status", FamilyGift.status),))

    def conditions(self) -> tuple[tuple[ColumnElement[bool], ...], Hashable]:
        # The child's own view leaves SENT gifts out here too, before counting or paging.
        if policies.is_child(self.context.actor):
            return (FamilyGift.status != policies.HIDDEN_GIFT_STATUS,), "hide_sent"
        return (), None


class ResultsOfChild(_Paged):
    relation = Relation("results", FamilyTaskAttempt, FamilyTaskAttempt.child_id,
                        (FamilyTaskAttempt.created_at, FamilyTaskAttempt.id))


class PostingsOfAccount(_Paged):
    """A points account's ledger postings, newest first (its version orders them)."""

    relation = Relation("postings", JournalPosting, JournalPosting.account_id, (JournalPosting.version,))


class EntryById(Loader[uuid.UUID, Any]):
    """A posting's entry: why the points moved (reason, memo)."""

    async def fetch(self, session: AsyncSession, keys: list[uuid.UUID]) -> list[Any]:
        entries = JournalEntry.__table__
        rows = await session.execute(
            select(entries.c.id, entries.c.reason, entries.c.memo).where(entries.c.id.in_(keys))
        )
        return _by_key(rows, keys)


class VisiblePosting(Loader[tuple[uuid.UUID, int], Any]):
    """A posting of a visible child's points account, by (account id, version)."""

    async def fetch(self, session: AsyncSession, keys: list[tuple[uuid.UUID, int]]) -> list[Any]:
        accounts = select(FamilyChild.points_account_id).where(policies.visible_children(self.context.actor))
        wanted = or_(*(and_(JournalPosting.account_id == a, JournalPosting.version == v) for a, v in keys))
        rows = records(await session.execute(
            select(*row_columns(JournalPosting)).where(wanted, JournalPosting.account_id.in_(accounts))
        ))
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
