"""Keyset pagination, one query for one parent or for a whole batch of parents.

Rows are ordered by a list of columns ending in a unique one (usually the id), all ascending
or all descending. A cursor is the opaque encoding of a row's values for those columns;
`after`/`before` become a row-value comparison, so deep pages cost what the first one does.
The batched form ranks rows per parent with window functions (one statement for 50 children's
task lists) and counts each parent's total in the same statement.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections import namedtuple
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class PaginationError(ValueError):
    """Arguments a client sent that no page answers (negative sizes, a forged cursor…)."""


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    max_size: int = MAX_PAGE_SIZE

    @property
    def backwards(self) -> bool:
        return self.last is not None and self.first is None

    @property
    def size(self) -> int:
        for value in (self.first, self.last):
            if value is not None and value < 0:
                raise PaginationError("first and last must not be negative")
        if self.first is not None and self.last is not None:
            raise PaginationError("pass first or last, not both")
        wanted = self.last if self.backwards else self.first
        return min(self.max_size, DEFAULT_PAGE_SIZE if wanted is None else wanted)


@dataclass
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    cursors: list[str | LazyCursor] = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False
    total: int = 0


# Checked in order with isinstance: datetime before date; asyncpg's UUID subclasses uuid.UUID.
_TAGS: tuple[tuple[type, str], ...] = (
    (datetime, "dt"), (date, "d"), (uuid.UUID, "u"), (Decimal, "n"), (int, "i"), (str, "s"),
)


def encode_cursor(values: Sequence[Any]) -> str:
    parts = []
    for value in values:
        tag = next((tag for kind, tag in _TAGS if isinstance(value, kind)), None)
        if tag is None or isinstance(value, bool):
            raise TypeError(f"cannot put {type(value).__name__} in a cursor")
        parts.append([tag, value.isoformat() if isinstance(value, date) else str(value)])
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def row_columns(model: type) -> list[Any]:
    """Every mapped column of `model`, column properties included, labelled by attribute name."""
    # Labelled explicitly: a column property's expression would otherwise be anonymous in subqueries.
    return [getattr(model, prop.key).label(prop.key) for prop in inspect(model).column_attrs]


@functools.lru_cache(maxsize=256)
def _record_class(keys: tuple[str, ...]) -> Any:
    try:
        return namedtuple("Record", keys)
    except ValueError:  # a key a named tuple cannot have (e.g. "_total"): keep the rows
        return None


def records(result: Iterable[Any]) -> list[Any]:
    """A result's rows as named tuples, read by the same attribute names.

    A Row answers `row.name` through `__getattr__` (about 0.56 µs on this machine class); a
    named tuple through a C descriptor (about 0.04 µs). A nested dashboard reads some 15,000
    row attributes, so this is several milliseconds a request.
    """
    keys = tuple(result.keys())  # type: ignore[attr-defined]
    record = _record_class(keys)
    if record is None:
        return list(result)
    make = record._make
    return [make(row) for row in result]


class LazyCursor:
    """A cursor encoded only when serialized (GraphQL's String serializes custom types with
    str()): a page of 10,000 rows whose edges nobody asks the cursor of encodes none."""

    __slots__ = ("values",)

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    def __str__(self) -> str:
        return encode_cursor(self.values)


def decode_cursor(cursor: str | LazyCursor, width: int | None = None) -> list[Any]:
    cursor = str(cursor)  # a page's own cursors may come back as they were handed out
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or (width is not None and len(parts) != width):
            raise ValueError
        decoders = {
            "dt": datetime.fromisoformat, "d": date.fromisoformat, "u": uuid.UUID,
            "n": Decimal, "i": int, "s": str,
        }
        return [decoders[tag](text) for tag, text in parts]
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise PaginationError("invalid cursor") from None


def _seek(columns: Sequence[ColumnElement[Any]], values: list[Any], greater: bool) -> ColumnElement[bool]:
    bound = [bindparam(None, v, type_=c.type) for c, v in zip(columns, values, strict=True)]
    if len(columns) == 1:
        return columns[0] > bound[0] if greater else columns[0] < bound[0]
    # Expanded form of (a, b) > (x, y): works on every backend and uses the index.
    clauses = []
    for i, column in enumerate(columns):
        head = [columns[j] == bound[j] for j in range(i)]
        clauses.append(and_(*head, column > bound[i] if greater else column < bound[i]))
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    request: PageRequest,
    *,
    descending: bool = True,
    rows: bool = False,
) -> Page[Any]:
    """One page of `statement`'s single entity: ORDER BY … LIMIT on the index, plus a count.

    Two cheap statements beat one windowed one here: ranking every matching row to keep 21 of
    them costs what the whole list costs (50 ms against 0.2 + 3 ms on 30k rows).

    `rows=True` pages plain rows of the entity's columns (read by the same attribute names)
    instead of ORM objects: for read-only lists, where hydrating and identity-mapping each
    object is most of the cost (a 10,000-row page: about half its server time).
    """
    if rows:
        statement = statement.with_only_columns(*row_columns(statement.column_descriptions[0]["entity"]))
    size = request.size
    cursor = request.before if request.backwards else request.after
    forward_desc = descending != request.backwards
    query = statement
    if cursor is not None:
        query = query.where(_seek(order_by, decode_cursor(cursor, len(order_by)), greater=not forward_desc))
    query = query.order_by(*[c.desc() if forward_desc else c.asc() for c in order_by]).limit(size + 1)
    items = records(await session.execute(query)) if rows else list((await session.scalars(query)).all())
    total = (await session.execute(select(func.count()).select_from(statement.order_by(None).subquery()))).scalar_one()
    return _finish(Page(items=items, total=total), request, size, order_by)


def _finish(page: Page[Any], request: PageRequest, size: int, order_by: Sequence[ColumnElement[Any]]) -> Page[Any]:
    overflow = len(page.items) > size
    page.items = page.items[:size]
    if request.backwards:
        page.items.reverse()
        page.has_previous, page.has_next = overflow, request.before is not None
    else:
        page.has_next, page.has_previous = overflow, request.after is not None
    keys = [c.key for c in order_by]
    page.cursors = [LazyCursor([getattr(item, key) for key in keys]) for item in page.items]  # type: ignore[misc]
    return page


async def paginate_many(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    request: PageRequest,
    *,
    partition_by: ColumnElement[Any] | None = None,
    descending: bool = True,
) -> dict[Hashable, Page[Any]]:
    """A page per value of `partition_by`, in one statement for every parent (dataloaders)."""
    size = request.size
    cursor = request.before if request.backwards else request.after
    # Walking backwards is walking forwards over the reversed order.
    forward_desc = descending != request.backwards
    partition = [partition_by] if partition_by is not None else []

    # Count every row per parent before the cursor cuts any away, then rank what is left.
    total = func.count().over(partition_by=partition or None).label("_total")
    inner = statement.add_columns(total).subquery("page_all")
    entity = statement.column_descriptions[0]["entity"]
    outer_columns = [inner.c[c.key] for c in order_by]
    ordering = [c.desc() if forward_desc else c.asc() for c in outer_columns]
    outer_partition = [inner.c[partition_by.key]] if partition_by is not None else None
    rank = func.row_number().over(partition_by=outer_partition, order_by=ordering).label("_rank")
    ranked = select(aliased(entity, inner), inner.c._total, rank)
    if cursor is not None:
        ranked = ranked.where(_seek(outer_columns, decode_cursor(cursor, len(order_by)), not forward_desc))
    ranked_sub = ranked.subquery("page_ranked")
    query = (
        select(aliased(entity, ranked_sub), ranked_sub.c._total)
        .where(ranked_sub.c._rank <= size + 1)
        .order_by(*([ranked_sub.c[partition_by.key]] if partition_by is not None else []), ranked_sub.c._rank)
    )

    pages: dict[Hashable, Page[Any]] = {}
    for item, total_count in (await session.execute(query)).all():
        key = getattr(item, partition_by.key) if partition_by is not None else None
        page = pages.setdefault(key, Page(total=total_count))
        page.items.append(item)

    return {key: _finish(page, request, size, order_by) for key, page in pages.items()}
