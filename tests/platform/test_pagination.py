"""Keyset pagination: pages, cursors both ways, totals, and one statement for many parents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ForeignKey, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.base import UTCDateTime
from db.pagination import PageRequest, PaginationError, decode_cursor, encode_cursor, paginate, paginate_many
from graph.errors import BadUserInput
from graph.pagination import page_request


class _Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class _Parent(_Base):
    __tablename__ = "pagination_probe_parent"
    id: Mapped[int] = mapped_column(primary_key=True)


class _Item(_Base):
    __tablename__ = "pagination_probe_item"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey(_Parent.id))
    created_at: Mapped[datetime]


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def items(session: AsyncSession) -> dict[int, list[_Item]]:
    # Given three parents with 0, 7 and 25 items, several sharing a timestamp
    connection = await session.connection()
    await connection.run_sync(_Base.metadata.create_all)
    await session.execute(insert(_Parent), [{"id": 1}, {"id": 2}, {"id": 3}])
    rows = []
    for parent, count in ((2, 7), (3, 25)):
        for i in range(count):
            rows.append({"id": uuid.uuid4(), "parent_id": parent, "created_at": T0 + timedelta(minutes=i // 2)})
    await session.execute(insert(_Item), rows)
    expected: dict[int, list[_Item]] = {1: [], 2: [], 3: []}
    for row in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True):
        expected[row["parent_id"]].append(row["id"])
    return expected


def _order():
    return [_Item.created_at, _Item.id]


async def _walk(session: AsyncSession, parent: int, size: int, backwards: bool = False) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    cursor = None
    query = select(_Item).where(_Item.parent_id == parent)
    while True:
        request = PageRequest(last=size, before=cursor) if backwards else PageRequest(first=size, after=cursor)
        page = await paginate(session, query, _order(), request)
        ids = [item.id for item in page.items]
        seen = ids + seen if backwards else seen + ids
        more = page.has_previous if backwards else page.has_next
        if not more:
            return seen
        cursor = page.cursors[0] if backwards else page.cursors[-1]


async def test_forward_pages_visit_every_row_once_newest_first(session, items) -> None:
    assert await _walk(session, 3, size=4) == items[3]


async def test_backward_pages_visit_every_row_once(session, items) -> None:
    assert await _walk(session, 3, size=6, backwards=True) == items[3]


async def test_total_count_ignores_the_cursor(session, items) -> None:
    query = select(_Item).where(_Item.parent_id == 3)
    first = await paginate(session, query, _order(), PageRequest(first=5))
    second = await paginate(session, query, _order(), PageRequest(first=5, after=first.cursors[-1]))
    past_the_end = await paginate(session, query, _order(), PageRequest(first=5, after=_oldest_possible()))
    assert (first.total, second.total, past_the_end.total) == (25, 25, 25)
    assert past_the_end.items == [] and not past_the_end.has_next


def _oldest_possible() -> str:
    return encode_cursor([T0 - timedelta(days=1), uuid.UUID(int=0)])


async def test_one_statement_pages_every_parent(session, items) -> None:
    # Given a statement counter
    statements: list[str] = []
    engine = (await session.connection()).engine.sync_engine

    def count(*args) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        # When the tasks of three parents are paged at once
        query = select(_Item).where(_Item.parent_id.in_([1, 2, 3]))
        pages = await paginate_many(session, query, _order(), PageRequest(first=3), partition_by=_Item.parent_id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Then it took one statement, and each parent got its own page and total
    assert len(statements) == 1
    assert 1 not in pages
    assert [i.id for i in pages[2].items] == items[2][:3] and pages[2].total == 7 and pages[2].has_next
    assert [i.id for i in pages[3].items] == items[3][:3] and pages[3].total == 25


def test_page_size_is_capped_at_100() -> None:
    assert PageRequest(first=10_000).size == 100
    assert PageRequest().size == 20


@pytest.mark.parametrize(
    "arguments",
    [{"first": -1}, {"last": -5}, {"first": 1, "last": 1}, {"after": "not-a-cursor"}, {"before": "e30"}],
)
def test_bad_paging_arguments_are_a_client_error(arguments) -> None:
    with pytest.raises(BadUserInput):
        page_request(**arguments)


def test_a_forged_cursor_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(PaginationError):
        decode_cursor(encode_cursor([1]), width=2)
