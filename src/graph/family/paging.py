"""Batched keyset pages as plain rows, with statements built once and reused.

The same pages as db.pagination.paginate_many (same order, totals, cursors, so either reads
the other's cursors), tuned for the dashboard's hot path, where building and adapting ORM
statements and loading ORM objects cost more than the database does:

- rows are Core rows (attribute access like the models, always fresh: no identity map);
- each statement shape (relation, filters present, direction, cursor or not) is built once,
  with bound parameters for the parents, the page size, the cursor and the filters, so a
  request only binds values and SQLAlchemy's compiled cache does the rest;
- cursors are encoded only if the client asks for them (LazyCursor's __str__).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.pagination import LazyCursor, Page, PageRequest, decode_cursor, records, row_columns


@dataclass(frozen=True, eq=False)
class Relation:
    """A paged one-to-many relation: rows of `model`, per `partition`, in `order_by` order."""

    name: str
    model: type
    partition: Any
    order_by: tuple[Any, ...]
    descending: bool = True
    # Equality filters a caller may add, by name: each becomes `column = :name` when given.
    filters: tuple[tuple[str, Any], ...] = ()


_STATEMENTS: dict[tuple[Hashable, ...], Select[Any]] = {}


def _statement(
    relation: Relation, filter_names: tuple[str, ...], extra: tuple[ColumnElement[bool], ...], extra_key: Hashable,
    forward_desc: bool, seek: bool,
) -> Select[Any]:
    key = (relation.name, filter_names, extra_key, forward_desc, seek)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    filters = dict(relation.filters)
    columns = row_columns(relation.model)
    total = func.count().over(partition_by=relation.partition).label("page_total")
    inner = (
        select(*columns, total)
        .where(relation.partition.in_(bindparam("parents", expanding=True)), *extra)
        .where(*(filters[name] == bindparam(f"filter_{name}") for name in filter_names))
        .subquery("page_all")
    )
    order = [inner.c[column.key] for column in relation.order_by]
    partition = inner.c[relation.partition.key]
    rank = func.row_number().over(
        partition_by=partition, order_by=[c.desc() if forward_desc else c.asc() for c in order]
    ).label("page_rank")
    ranked = select(*inner.c, rank)
    if seek:
        bound = [bindparam(f"cursor_{i}", type_=c.type) for i, c in enumerate(order)]
        # The expanded form of (a, b) < (x, y): every backend, and it uses the index.
        clauses = [
            and_(*(order[j] == bound[j] for j in range(i)),
                 order[i] < bound[i] if forward_desc else order[i] > bound[i])
            for i in range(len(order))
        ]
        ranked = ranked.where(or_(*clauses))
    ranked_sub = ranked.subquery("page_ranked")
    statement = (
        select(ranked_sub)
        .where(ranked_sub.c.page_rank <= bindparam("limit"))
        .order_by(ranked_sub.c[relation.partition.key], ranked_sub.c.page_rank)
    )
    _STATEMENTS[key] = statement
    return statement


async def pages_of(
    session: AsyncSession,
    relation: Relation,
    parents: list[Any],
    request: PageRequest,
    filters: dict[str, Any] | None = None,
    extra: tuple[ColumnElement[bool], ...] = (),
    extra_key: Hashable = None,
) -> dict[Any, Page[Any]]:
    """A page of rows per parent (parents without rows left out), in one statement.

    `extra` conditions must be constant for a given `extra_key` (the statement is reused).
    """
    given = {name: value for name, value in (filters or {}).items() if value is not None}
    size = request.size
    cursor = request.before if request.backwards else request.after
    forward_desc = relation.descending != request.backwards
    statement = _statement(relation, tuple(sorted(given)), extra, extra_key, forward_desc, cursor is not None)
    params: dict[str, Any] = {"parents": parents, "limit": size + 1}
    params.update({f"filter_{name}": value for name, value in given.items()})
    if cursor is not None:
        for i, value in enumerate(decode_cursor(cursor, len(relation.order_by))):
            params[f"cursor_{i}"] = value

    grouped: dict[Any, list[Any]] = defaultdict(list)
    totals: dict[Any, int] = {}
    partition_key = relation.partition.key
    for row in records(await session.execute(statement, params)):
        parent = getattr(row, partition_key)
        grouped[parent].append(row)
        totals[parent] = row.page_total

    order_keys = [column.key for column in relation.order_by]
    pages: dict[Any, Page[Any]] = {}
    for parent, rows in grouped.items():
        overflow = len(rows) > size
        rows = rows[:size]
        if request.backwards:
            rows.reverse()
        page = Page(items=rows, total=totals[parent])
        if request.backwards:
            page.has_previous, page.has_next = overflow, request.before is not None
        else:
            page.has_next, page.has_previous = overflow, request.after is not None
        page.cursors = [LazyCursor([getattr(row, key) for key in order_keys]) for row in rows]  # type: ignore[misc]
        pages[parent] = page
    return pages
