"""Every operation of the earnings contract, sent as the client sends it, end to end.

The subscription (EarningsUpdated) runs over a real websocket in test_live.py.
"""

from __future__ import annotations

from datetime import timedelta

from graphql import OperationDefinitionNode, parse
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning, Goal, Platform
from tally.clock import clock
from tests.accounts.conftest import Person
from tests.earnings.conftest import add_earning, add_platform, count, gid, raw_id
from tests.support.client import CONTRACT_DIR, GraphQLClient

# Each operation of the contract and the test that sends it.
COVERED = {
    "CreatePlatform": "test_create_platform",
    "RecordEarning": "test_record_earning",
    "UpdateEarning": "test_update_earning",
    "DeleteEarning": "test_delete_earning",
    "CreateGoal": "test_create_goal",
    "EarningsDashboard": "test_earnings_dashboard",
    "EarningsUpdated": "tests/earnings/test_live.py",
}


def test_every_contract_operation_is_covered() -> None:
    document = parse((CONTRACT_DIR / "earnings.graphql").read_text())
    names = {d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name}
    assert names == set(COVERED)


async def test_create_platform(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # When Fran adds a platform with a category and a colour
    variables = {"input": {"name": "  Upwork ", "category": "Freelance marketplace", "color": "#A1B2C3"}}
    payload = (await gql.contract("earnings", "CreatePlatform", variables, token=fran.token)).ok()["createPlatform"]
    # Then it is hers, named without the stray spaces, its colour in lower case
    assert payload["errors"] == []
    platform = payload["platform"]
    assert platform | {"id": None} == {
        "id": None, "name": "Upwork", "category": "Freelance marketplace", "color": "#a1b2c3",
    }
    row = await session.get(Platform, raw_id(platform["id"]))
    assert row is not None and row.user_id == fran.user.id


async def test_create_platform_picks_a_colour_when_left_out(gql: GraphQLClient, fran: Person) -> None:
    colours = []
    for name in ("Upwork", "Fiverr"):
        payload = (await gql.contract("earnings", "CreatePlatform", {"input": {"name": name}}, token=fran.token)).ok()
        colours.append(payload["createPlatform"]["platform"]["color"])
    assert colours == ["#4f46e5", "#059669"]


async def test_record_earning(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given a platform
    platform = await add_platform(session, fran.user)
    today = clock.now().date()
    # When Fran records 100 USD for 3 hours, currency left out (her default is USD)
    variables = {"input": {"platformId": gid("Platform", platform.id), "date": today.isoformat(), "amount": "100",
                           "hours": "3", "notes": "Logo design"}}
    payload = (await gql.contract("earnings", "RecordEarning", variables, token=fran.token)).ok()["recordEarning"]
    # Then the earning comes back with its hourly rate, 33.333… rounded half up to the cent
    assert payload["errors"] == []
    earning = payload["earning"]
    assert earning | {"id": None} == {
        "id": None, "date": today.isoformat(), "amount": {"amount": "100.00", "currency": "USD"}, "hours": "3.00",
        "hourlyRate": {"amount": "33.33", "currency": "USD"}, "notes": "Logo design",
        "platform": {"id": gid("Platform", platform.id), "name": "Upwork"},
    }
    assert await count(session, Earning) == 1


async def test_update_earning(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given an earning of 100 USD for 3 hours
    platform = await add_platform(session, fran.user)
    today = clock.now().date()
    earning = await add_earning(session, platform, today, 10_000, hours_centi=300, notes="draft")
    # When Fran corrects the amount and the hours, leaving date and notes out
    variables = {"input": {"id": gid("Earning", earning.id), "amount": "125.5", "hours": "2.5"}}
    payload = (await gql.contract("earnings", "UpdateEarning", variables, token=fran.token)).ok()["updateEarning"]
    # Then the amount, hours and rate change and the rest stays
    assert payload == {"earning": {
        "id": gid("Earning", earning.id), "date": today.isoformat(), "amount": {"amount": "125.50", "currency": "USD"},
        "hours": "2.50", "hourlyRate": {"amount": "50.20", "currency": "USD"}, "notes": "draft",
    }, "errors": []}
    # And null clears the notes and the hours (and with them the rate)
    variables = {"input": {"id": gid("Earning", earning.id), "notes": None, "hours": None}}
    cleared = (await gql.contract("earnings", "UpdateEarning", variables, token=fran.token)).ok()["updateEarning"]
    assert (cleared["earning"]["notes"], cleared["earning"]["hours"], cleared["earning"]["hourlyRate"]) == (
        None, None, None)


async def test_delete_earning(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    platform = await add_platform(session, fran.user)
    earning = await add_earning(session, platform, clock.now().date(), 10_000)
    variables = {"input": {"id": gid("Earning", earning.id)}}
    payload = (await gql.contract("earnings", "DeleteEarning", variables, token=fran.token)).ok()["deleteEarning"]
    assert payload == {"deletedId": gid("Earning", earning.id), "errors": []}
    assert await count(session, Earning) == 0
    # Deleting it again: it no longer exists
    again = (await gql.contract("earnings", "DeleteEarning", variables, token=fran.token)).ok()["deleteEarning"]
    assert again == {"deletedId": None, "errors": [{"field": "id", "code": "NOT_FOUND", "message": "No such earning."}]}


async def test_create_goal(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given 40 EUR earned today and 99 USD (another currency) too
    platform = await add_platform(session, fran.user)
    today = clock.now().date()
    await add_earning(session, platform, today, 4_000, currency="EUR")
    await add_earning(session, platform, today, 9_900, currency="USD")
    # When Fran sets a goal of 100 EUR by the end of next month
    deadline = today + timedelta(days=45)
    variables = {"input": {"title": "New laptop", "targetAmount": "100", "currency": "eur",
                           "deadline": deadline.isoformat(), "description": "A faster one"}}
    payload = (await gql.contract("earnings", "CreateGoal", variables, token=fran.token)).ok()["createGoal"]
    # Then today's EUR earnings count toward it, the USD ones do not
    assert payload["errors"] == []
    assert payload["goal"] | {"id": None} == {
        "id": None, "title": "New laptop", "deadline": deadline.isoformat(), "status": "ACTIVE", "progress": 0.4,
        "targetAmount": {"amount": "100.00", "currency": "EUR"},
        "currentAmount": {"amount": "40.00", "currency": "EUR"},
    }
    assert await count(session, Goal) == 1


async def test_earnings_dashboard(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Given two platforms, USD earnings over two months and one EUR earning
    upwork = await add_platform(session, fran.user, "Upwork", color="#111111")
    fiverr = await add_platform(session, fran.user, "Fiverr", color="#222222")
    today = clock.now().date()
    start = today - timedelta(days=40)
    await add_earning(session, upwork, start, 30_000, hours_centi=1_000)  # 300 USD, 10 h
    await add_earning(session, upwork, start + timedelta(days=35), 10_000)  # 100 USD, no hours
    await add_earning(session, fiverr, start + timedelta(days=35), 20_000, hours_centi=500)  # 200 USD, 5 h
    await add_earning(session, fiverr, start, 5_000, currency="EUR")
    await add_earning(session, fiverr, start - timedelta(days=1), 7_000)  # before the range
    # When the dashboard asks for the range in USD
    variables = {"from": start.isoformat(), "to": today.isoformat(), "currency": "USD"}
    me = (await gql.contract("earnings", "EarningsDashboard", variables, token=fran.token)).ok()["me"]
    summary = me["earningsSummary"]
    # Then the summary adds up the USD earnings in range only
    assert summary["currency"] == "USD"
    assert summary["total"] == {"amount": "600.00", "currency": "USD"}
    assert summary["hours"] == "15.00"
    # 500 USD earned over 15 tracked hours (the untracked 100 USD does not count toward the rate)
    assert summary["averageHourlyRate"] == {"amount": "33.33", "currency": "USD"}
    assert summary["byPlatform"] == [
        {"platform": {"id": gid("Platform", upwork.id), "name": "Upwork", "color": "#111111"},
         "total": {"amount": "400.00", "currency": "USD"}, "hours": "10.00", "share": 400 / 600},
        {"platform": {"id": gid("Platform", fiverr.id), "name": "Fiverr", "color": "#222222"},
         "total": {"amount": "200.00", "currency": "USD"}, "hours": "5.00", "share": 200 / 600},
    ]
    later = start + timedelta(days=35)
    months = sorted({f"{start:%Y-%m}", f"{later:%Y-%m}"})
    assert [m["month"] for m in summary["byMonth"]] == months
    assert summary["byDay"] == [
        {"date": start.isoformat(), "total": {"amount": "300.00", "currency": "USD"}},
        {"date": later.isoformat(), "total": {"amount": "300.00", "currency": "USD"}},
    ]
    # And the list shows every currency in range, newest first
    assert me["earnings"]["totalCount"] == 4
    assert me["earnings"]["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["date"] for e in me["earnings"]["edges"]] == [later.isoformat()] * 2 + [start.isoformat()] * 2
    assert me["goals"] == {"edges": []}
