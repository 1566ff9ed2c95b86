"""GET /exports/earnings.csv: the bearer token's own earnings, streamed, formula cells escaped."""

from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning
from domain.actor import Actor, Role
from domain.earnings.export import HEADER, csv_chunks, escape_cell
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person
from tests.earnings.conftest import add_earning, add_platform
from tests.support.client import GraphQLClient


async def export(gql: GraphQLClient, token: str | None, **params: str) -> tuple[int, str, dict[str, str]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await gql.http.get("/exports/earnings.csv", params=params, headers=headers)
    return response.status_code, response.text, dict(response.headers)


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_the_export_lists_your_earnings_oldest_first(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given Fran's earnings in three currencies, one on an archived platform, and one of Otto's
    upwork = await add_platform(session, fran.user, "Upwork")
    old = await add_platform(session, fran.user, "Old gigs", archived=True)
    d = clock.now().date()
    await add_earning(session, upwork, d, 12_345, hours_centi=250, notes="Logo, v2\nwith a newline")
    await add_earning(session, old, d - timedelta(days=3), 1_000, currency="JPY")
    await add_earning(session, upwork, d - timedelta(days=1), 1_234, currency="KWD", hours_centi=0)
    await add_earning(session, await add_platform(session, otto.user, "Otto's"), d, 99_999)
    # When she downloads the export
    status, text, headers = await export(gql, fran.token)
    # Then it is a CSV attachment, streamed (no length known up front), with her rows only
    assert status == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == 'attachment; filename="earnings.csv"'
    assert "content-length" not in headers
    assert rows_of(text) == [
        list(HEADER),
        [(d - timedelta(days=3)).isoformat(), "Old gigs", "1000", "JPY", "", "", ""],
        [(d - timedelta(days=1)).isoformat(), "Upwork", "1.234", "KWD", "0.00", "", ""],
        [d.isoformat(), "Upwork", "123.45", "USD", "2.50", "49.38", "Logo, v2\nwith a newline"],
    ]


async def test_the_export_takes_a_date_range(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    platform = await add_platform(session, fran.user)
    d = clock.now().date()
    for days_ago in range(5):
        await add_earning(session, platform, d - timedelta(days=days_ago), 100 + days_ago)
    start, end = (d - timedelta(days=3)).isoformat(), (d - timedelta(days=1)).isoformat()
    status, text, headers = await export(gql, fran.token, **{"from": start, "to": end})
    assert status == 200
    assert [row[0] for row in rows_of(text)[1:]] == [start, (d - timedelta(days=2)).isoformat(), end]
    assert headers["content-disposition"] == f'attachment; filename="earnings-from-{start}-to-{end}.csv"'


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_a_cell_that_looks_like_a_formula_is_escaped(typed: str, exported: str) -> None:
    assert escape_cell(typed) == exported


async def test_platform_names_and_notes_are_escaped_in_the_file(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user, '=HYPERLINK("http://evil.example","x")')
    await add_earning(session, platform, clock.now().date(), 100, notes="@SUM(1+1)*cmd|' /C calc'!A0")
    _, text, _ = await export(gql, fran.token)
    row = rows_of(text)[1]
    assert row[1] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[6] == "'@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("token", "params", "status"),
    [
        (None, {}, 401),
        ("not-a-token", {}, 401),
        ("child", {}, 403),
        ("member", {"from": "yesterday"}, 400),
        ("member", {"from": "2026-02-01", "to": "2026-01-01"}, 400),
    ],
)
async def test_the_export_refuses_what_it_cannot_answer(
    gql: GraphQLClient, people: dict[str, Person], token: str | None, params: dict[str, str], status: int
) -> None:
    bearer = people[token].token if token in people else token
    got, text, headers = await export(gql, bearer, **params)
    assert got == status
    assert "date,platform" not in text
    if status == 401:
        assert headers["www-authenticate"] == "Bearer"


async def _many_earnings(session: AsyncSession, person: Person, count: int) -> None:
    platform = await add_platform(session, person.user)
    start = date(2025, 1, 1)
    rows = [{
        "id": uuid.uuid4(), "user_id": person.user.id, "platform_id": platform.id,
        "date": start + timedelta(days=n % 365), "amount_minor": 10_000 + n, "currency": "USD",
        "hours_centi": 150, "notes": "notes, with a comma", "created_at": clock.now(), "updated_at": clock.now(),
    } for n in range(count)]
    for first in range(0, count, 10_000):
        await session.execute(insert(Earning), rows[first:first + 10_000])
    await session.commit()


async def _peak_while_exporting(runtime: Runtime, person: Person) -> tuple[int, int, int]:
    """(rows, chunks, peak bytes allocated) while the whole export is read, batch by batch."""
    actor = Actor(user_id=person.user.id, role=Role.MEMBER)
    rows = chunks = 0
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        async for chunk in csv_chunks(runtime.database, actor, None, None, batch_size=200):
            rows += chunk.count("notes, with a comma")
            chunks += 1
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return rows, chunks, peak


async def test_the_export_holds_one_batch_in_memory_whatever_its_size(
    runtime: Runtime, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given 4,000 earnings for Fran and ten times as many for Otto
    await _many_earnings(session, fran, 4_000)
    await _many_earnings(session, otto, 40_000)
    # When both exports are read through, in batches of 200 rows
    small_rows, small_chunks, small_peak = await _peak_while_exporting(runtime, fran)
    large_rows, large_chunks, large_peak = await _peak_while_exporting(runtime, otto)
    # Then every row comes out, a batch at a time (plus the header)
    assert (small_rows, small_chunks) == (4_000, 21)
    assert (large_rows, large_chunks) == (40_000, 201)
    # And the memory it takes does not grow with the export: 40,000 rows loaded at once take ~18 MB
    assert large_peak < 2 * small_peak + 256 * 1024
    assert large_peak < 2 * 1024 * 1024
