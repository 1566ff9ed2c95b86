"""TALLY_MAX_PAGE_SIZE (only benchmarks raise it) and the SQL statement count on /metrics."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning
from db.pagination import MAX_PAGE_SIZE
from graph.app import create_app
from graph.pagination import set_max_page_size
from tally.runtime import Runtime
from tally.settings import ConfigurationError, load_settings
from tests.earnings.conftest import add_platform, fran  # noqa: F401 - `fran` is a fixture
from tests.support.client import GraphQLClient

PAGE = "query Page($first: Int) { me { earnings(first: $first) { totalCount edges { node { id } } } } }"
ROWS = 120


@pytest.fixture
async def many_earnings(session: AsyncSession, fran: Any) -> Any:  # noqa: F811 - the fixture
    # Given a freelancer with more earnings than the default cap lets through
    platform = await add_platform(session, fran.user)
    await session.execute(insert(Earning), [
        {"user_id": fran.user.id, "platform_id": platform.id, "date": date(2026, 1, 1 + n % 28),
         "amount_minor": 100 + n, "currency": "USD"}
        for n in range(ROWS)
    ])
    await session.commit()
    return fran


def test_the_page_cap_defaults_to_100_and_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(secret_key="k" * 40).max_page_size == MAX_PAGE_SIZE == 100
    monkeypatch.setenv("TALLY_MAX_PAGE_SIZE", "10000")
    assert load_settings(secret_key="k" * 40).max_page_size == 10_000
    monkeypatch.setenv("TALLY_MAX_PAGE_SIZE", "0")
    with pytest.raises(ConfigurationError, match=r"^TALLY_MAX_PAGE_SIZE:"):
        load_settings(secret_key="k" * 40)


async def test_by_default_first_101_gets_a_page_of_100(gql: GraphQLClient, many_earnings: Any) -> None:
    # When the client asks for more than the cap
    data = (await gql.execute(PAGE, {"first": 101}, token=many_earnings.token)).ok()
    # Then the page holds 100 (the schema's documented cap), and the total counts them all
    assert len(data["me"]["earnings"]["edges"]) == 100
    assert data["me"]["earnings"]["totalCount"] == ROWS


async def test_the_setting_raises_the_cap(runtime: Runtime, many_earnings: Any) -> None:
    # Given an app whose settings raise the cap (as the wide-list benchmark does)
    settings = runtime.settings.model_copy(update={"max_page_size": 150})
    client = GraphQLClient(create_app(settings=settings, runtime=runtime), after_request=runtime.jobs.drain)
    try:
        # When the client asks for 101, then for more than there are
        data = (await client.execute(PAGE, {"first": 101}, token=many_earnings.token)).ok()
        everything = (await client.execute(PAGE, {"first": 1000}, token=many_earnings.token)).ok()
    finally:
        await client.aclose()
        set_max_page_size(MAX_PAGE_SIZE)  # the cap is per process; leave it as other tests expect
    # Then it gets 101, and at most the raised cap
    assert len(data["me"]["earnings"]["edges"]) == 101
    assert len(everything["me"]["earnings"]["edges"]) == ROWS


def _statements(metrics: str) -> float:
    found = re.search(r"^tally_sql_statements_total (\S+)$", metrics, re.MULTILINE)
    assert found, "tally_sql_statements_total is not on /metrics"
    return float(found.group(1))


async def test_metrics_count_sql_statements(gql: GraphQLClient, many_earnings: Any) -> None:
    before = _statements((await gql.http.get("/metrics")).text)
    # When a query runs SQL
    (await gql.execute(PAGE, {"first": 5}, token=many_earnings.token)).ok()
    # Then the process's statement count grew by what it ran (the page, its count, the sign-in check...)
    assert _statements((await gql.http.get("/metrics")).text) >= before + 2
