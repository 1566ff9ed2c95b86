"""The summary adds up one currency in SQL: checked against totals computed here from random
data, at timezone date boundaries, and in a constant number of statements."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning, Platform
from domain.earnings.profiles import today_in
from domain.money import minor_digits
from tally.clock import clock
from tests.accounts.conftest import Person, sign_in
from tests.conftest import Backend
from tests.earnings.conftest import add_earning, add_goal, add_platform, gid, raw_id, record, set_profile
from tests.support.client import GraphQLClient
from tests.support.statements import count_statements

SUMMARY = """
query($from: Date!, $to: Date!, $currency: String) {
  me { earningsSummary(from: $from, to: $to, currency: $currency) {
    currency from to count hours total { amount currency } averageHourlyRate { amount currency }
    byPlatform { platform { id } total { amount } hours count share averageHourlyRate { amount } }
    byMonth { month total { amount } hours count }
    byDay { date total { amount } hours count }
  } }
}
"""
CURRENCIES = ("USD", "EUR", "JPY", "KWD")


def major(minor: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return (Decimal(minor) / (10 ** digits)).quantize(Decimal(1).scaleb(-digits))


def money_text(minor: int, currency: str) -> str:
    return str(major(minor, currency))


def expected_rate(rated_minor: int, hours_centi: int, currency: str) -> str | None:
    """Computed another way than the app: in major units, divided, then rounded half up."""
    if hours_centi == 0:
        return None
    rate = major(rated_minor, currency) / (Decimal(hours_centi) / 100)
    return str(rate.quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_HALF_UP))


def hours_text(hours_centi: int) -> str:
    return str((Decimal(hours_centi) / 100).quantize(Decimal("0.01")))


async def random_history(session: AsyncSession, person: Person, rng: random.Random, size: int) -> list[dict[str, Any]]:
    """`size` earnings over four platforms (one archived), four currencies and ~half a year."""
    platforms = [await add_platform(session, person.user, f"P{n}", archived=n == 3) for n in range(4)]
    start = clock.now().date() - timedelta(days=180)
    rows = []
    for _ in range(size):
        hours = rng.choice([None, 0, rng.randint(1, 4_000)])
        rows.append({
            "id": uuid.uuid4(), "user_id": person.user.id, "platform_id": rng.choice(platforms).id,
            "date": start + timedelta(days=rng.randint(0, 181)), "amount_minor": rng.randint(1, 500_000),
            "currency": rng.choice(CURRENCIES), "hours_centi": hours, "notes": None,
            "created_at": clock.now(), "updated_at": clock.now(),
        })
    await session.execute(insert(Earning), rows)
    await session.commit()
    return rows


def expected_summary(rows: list[dict[str, Any]], start: date, end: date, currency: str) -> dict[str, Any]:
    mine = [r for r in rows if r["currency"] == currency and start <= r["date"] <= end]

    def bucket(items: list[dict[str, Any]]) -> tuple[int, int, int, int]:
        amount = sum(r["amount_minor"] for r in items)
        hours = sum(r["hours_centi"] or 0 for r in items)
        rated = sum(r["amount_minor"] for r in items if r["hours_centi"])
        return amount, hours, rated, len(items)

    groups: dict[str, dict[Any, list[dict[str, Any]]]] = {"platform": defaultdict(list), "month": defaultdict(list),
                                                          "day": defaultdict(list)}
    for r in mine:
        groups["platform"][r["platform_id"]].append(r)
        groups["month"][f"{r['date']:%Y-%m}"].append(r)
        groups["day"][r["date"]].append(r)
    amount, hours, rated, n = bucket(mine)
    by_platform = []
    for platform_id, items in groups["platform"].items():
        p_amount, p_hours, p_rated, p_n = bucket(items)
        by_platform.append({
            "platform": {"id": gid("Platform", platform_id)}, "total": {"amount": money_text(p_amount, currency)},
            "hours": hours_text(p_hours), "count": p_n, "share": p_amount / amount,
            "averageHourlyRate": (lambda rate: {"amount": rate} if rate else None)(
                expected_rate(p_rated, p_hours, currency)),
        })
    by_platform.sort(key=lambda p: (-Decimal(p["total"]["amount"]), str(raw_id(p["platform"]["id"]))))
    rate = expected_rate(rated, hours, currency)
    return {
        "currency": currency, "from": start.isoformat(), "to": end.isoformat(), "count": n,
        "hours": hours_text(hours), "total": {"amount": money_text(amount, currency), "currency": currency},
        "averageHourlyRate": {"amount": rate, "currency": currency} if rate else None,
        "byPlatform": by_platform,
        "byMonth": [
            {"month": month, "total": {"amount": money_text(bucket(items)[0], currency)},
             "hours": hours_text(bucket(items)[1]), "count": len(items)}
            for month, items in sorted(groups["month"].items())
        ],
        "byDay": [
            {"date": day.isoformat(), "total": {"amount": money_text(bucket(items)[0], currency)},
             "hours": hours_text(bucket(items)[1]), "count": len(items)}
            for day, items in sorted(groups["day"].items())
        ],
    }


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    # Shares are floats computed in two ways; compare them to a tolerance, everything else exactly.
    shares = [p.pop("share") for p in summary["byPlatform"]]
    return {**summary, "shares": [round(s, 9) for s in shares]}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_summary_matches_totals_computed_from_random_data(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person, seed: int
) -> None:
    # Given a random history for Fran (and some for Otto, which must never count)
    rng = random.Random(seed)
    rows = await random_history(session, fran, rng, 400)
    await random_history(session, otto, rng, 50)
    today = clock.now().date()
    windows = [(today - timedelta(days=200), today)] + [
        sorted([today - timedelta(days=rng.randint(0, 190)), today - timedelta(days=rng.randint(0, 190))])
        for _ in range(4)
    ]
    for start, end in windows:
        for currency in CURRENCIES:
            # When Fran asks for the summary of that window in that currency
            variables = {"from": start.isoformat(), "to": end.isoformat(), "currency": currency}
            summary = (await gql.execute(SUMMARY, variables, token=fran.token)).ok()["me"]["earningsSummary"]
            # Then it matches what the rows add up to, in that currency only
            assert comparable(summary) == comparable(expected_summary(rows, start, end, currency))
            assert sum(p["share"] for p in expected_summary(rows, start, end, currency)["byPlatform"]) == (
                pytest.approx(1.0) if summary["count"] else 0)


async def test_an_empty_range_sums_to_zero(gql: GraphQLClient, fran: Person) -> None:
    variables = {"from": "2020-01-01", "to": "2020-12-31"}
    summary = (await gql.execute(SUMMARY, variables, token=fran.token)).ok()["me"]["earningsSummary"]
    assert summary == {
        "currency": "USD", "from": "2020-01-01", "to": "2020-12-31", "count": 0, "hours": "0.00",
        "total": {"amount": "0.00", "currency": "USD"}, "averageHourlyRate": None,
        "byPlatform": [], "byMonth": [], "byDay": [],
    }


async def test_the_currency_left_out_is_the_users_default(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Given Fran earns in EUR and USD, and her default is EUR
    await set_profile(session, fran.user, currency="EUR")
    platform = await add_platform(session, fran.user)
    today = clock.now().date()
    await add_earning(session, platform, today, 1_000, currency="EUR")
    await add_earning(session, platform, today, 9_999, currency="USD")
    # Then a summary without a currency is the EUR one; nothing is converted
    variables = {"from": today.isoformat(), "to": today.isoformat()}
    summary = (await gql.execute(SUMMARY, variables, token=fran.token)).ok()["me"]["earningsSummary"]
    assert (summary["currency"], summary["total"]) == ("EUR", {"amount": "10.00", "currency": "EUR"})
    # And earningCurrencies lists both
    data = (await gql.execute("{ me { earningCurrencies } }", token=fran.token)).ok()
    assert data["me"]["earningCurrencies"] == ["EUR", "USD"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, "must not be after"),
        ({"from": "2026-01-01", "to": "2026-02-01", "currency": "EURO"}, "ISO 4217"),
    ],
)
async def test_a_bad_summary_request_is_a_client_error(
    gql: GraphQLClient, fran: Person, variables: dict[str, Any], message: str
) -> None:
    response = await gql.execute(SUMMARY, variables, token=fran.token)
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert message in response.errors[0]["message"]
    assert response.data == {"me": {"earningsSummary": None}}


@pytest.mark.parametrize(
    ("timezone", "local_midnight"),
    # When midnight comes there, counted from the UTC midnight the test starts at
    [("Pacific/Kiritimati", timedelta(hours=10)), ("Pacific/Pago_Pago", timedelta(hours=11)),
     ("Asia/Kathmandu", timedelta(hours=18, minutes=15))],
)
async def test_earnings_recorded_around_midnight_count_on_the_day_they_are_dated(
    gql: GraphQLClient, session: AsyncSession, fran: Person, timezone: str, local_midnight: timedelta
) -> None:
    # Given Fran in `timezone`, a minute before and a minute after her midnight
    await set_profile(session, fran.user, timezone=timezone)
    platform = await add_platform(session, fran.user)
    clock.advance(local_midnight - timedelta(minutes=1, seconds=1))
    before = await sign_in(session, fran.user)
    local_today = today_in(timezone)
    # She records one dated today and one dated tomorrow (the latest she may), both local dates
    assert (await record(gql, before, platform, amount="1", date=local_today.isoformat()))["errors"] == []
    assert (await record(gql, before, platform, amount="2",
                         date=(local_today + timedelta(days=1)).isoformat()))["errors"] == []
    clock.advance(timedelta(minutes=2))
    after = await sign_in(session, fran.user)
    assert today_in(timezone) == local_today + timedelta(days=1)
    # After her midnight the day after tomorrow is allowed too
    assert (await record(gql, after, platform, amount="4",
                         date=(local_today + timedelta(days=2)).isoformat()))["errors"] == []
    # Then each day of the summary holds exactly what was dated on it
    variables = {"from": local_today.isoformat(), "to": (local_today + timedelta(days=2)).isoformat()}
    summary = (await gql.execute(SUMMARY, variables, token=after.token)).ok()["me"]["earningsSummary"]
    assert [(d["date"], d["total"]["amount"]) for d in summary["byDay"]] == [
        (local_today.isoformat(), "1.00"),
        ((local_today + timedelta(days=1)).isoformat(), "2.00"),
        ((local_today + timedelta(days=2)).isoformat(), "4.00"),
    ]


async def _bulk(session: AsyncSession, platforms: list[Platform], size: int, rng: random.Random) -> None:
    today = clock.now().date()
    rows = [{
        "id": uuid.uuid4(), "user_id": platforms[0].user_id, "platform_id": rng.choice(platforms).id,
        "date": today - timedelta(days=rng.randint(0, 400)), "amount_minor": rng.randint(1, 10_000),
        "currency": "USD", "hours_centi": rng.choice([None, 150]), "notes": None,
        "created_at": clock.now(), "updated_at": clock.now(),
    } for _ in range(size)]
    await session.execute(insert(Earning), rows)
    await session.commit()


async def test_the_summary_takes_the_same_statements_for_any_number_of_earnings(
    gql: GraphQLClient, session: AsyncSession, backend: Backend, fran: Person, otto: Person
) -> None:
    rng = random.Random(5)
    variables = {"from": "2000-01-01", "to": "2100-01-01"}

    async def statements_for(person: Person, platform_count: int, size: int) -> int:
        await set_profile(session, person.user, plan="PRO")
        platforms = [await add_platform(session, person.user, f"P{n}") for n in range(platform_count)]
        await _bulk(session, platforms, size, rng)
        with count_statements(backend.engine) as log:
            summary = (await gql.execute(SUMMARY, variables, token=person.token)).ok()["me"]["earningsSummary"]
        assert summary["count"] == size
        # One statement reads the earnings, whatever their number
        assert len([statement for statement in log.statements if "FROM earnings " in statement]) == 1
        return log.count

    # Given 30 earnings on 2 platforms for Fran, and 3,000 on 12 for Otto
    small = await statements_for(fran, 2, 30)
    large = await statements_for(otto, 12, 3_000)
    # Then both summaries take the same few statements: the sign-in check, the viewer, the settings,
    # the summary and its platforms
    assert small == large <= 5


DASHBOARD_STATEMENTS_MAX = 10


async def test_the_dashboard_takes_the_same_statements_for_any_number_of_platforms_and_earnings(
    gql: GraphQLClient, session: AsyncSession, backend: Backend, fran: Person, otto: Person
) -> None:
    rng = random.Random(9)
    today = clock.now().date()
    variables = {"from": (today - timedelta(days=400)).isoformat(), "to": today.isoformat()}

    async def statements_for(person: Person, platform_count: int, size: int, goals: int) -> int:
        await set_profile(session, person.user, plan="BUSINESS")
        platforms = [await add_platform(session, person.user, f"P{n}") for n in range(platform_count)]
        await _bulk(session, platforms, size, rng)
        for n in range(goals):
            await add_goal(session, person.user, 1_000 * (n + 1), today - timedelta(days=n), today + timedelta(days=9))
        with count_statements(backend.engine) as log:
            me = (await gql.contract("earnings", "EarningsDashboard", variables, token=person.token)).ok()["me"]
        assert me["earnings"]["totalCount"] == size and len(me["goals"]["edges"]) == min(goals, 10)
        assert len(me["earningsSummary"]["byPlatform"]) == platform_count
        return log.count

    # Given Fran with 2 platforms, 10 earnings and 1 goal, and Otto with 25, 2,000 and 12
    small = await statements_for(fran, 2, 10, 1)
    large = await statements_for(otto, 25, 2_000, 12)
    # Then the dashboard costs both the same number of statements
    assert small == large <= DASHBOARD_STATEMENTS_MAX
