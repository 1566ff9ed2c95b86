"""Goals: the current amount counts one currency inside the goal's window; reaching the target
completes it and notifies once; the deadline job marks the rest MISSED, once, per timezone."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Goal
from db.models.notifications import Notification
from domain.earnings.goals import mark_missed_goals
from graph.app import create_app
from jobs.earnings import mark_missed_earning_goals
from jobs.registry import CRON, functions_by_name
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person, sign_in
from tests.earnings.conftest import (
    add_earning,
    add_goal,
    add_platform,
    codes,
    count,
    gid,
    raw_id,
    record,
    set_profile,
)
from tests.support.client import GraphQLClient
from tests.support.live import committed_person

GOALS = """
query($status: GoalStatus) {
  me { goals(first: 10, status: $status) {
    edges { node { id title status progress startsOn deadline currentAmount { amount currency } } } } }
}
"""


def today() -> date:
    return clock.now().date()


async def goal_status(session: AsyncSession, goal_id: Any) -> str:
    return (await session.scalar(select(Goal.status).where(Goal.id == goal_id).execution_options(
        populate_existing=True))) or ""


async def notifications(session: AsyncSession, person: Person) -> list[tuple[str, dict[str, Any] | None]]:
    rows = await session.execute(
        select(Notification.type, Notification.data)
        .where(Notification.recipient_id == person.user.id)
        .order_by(Notification.created_at, Notification.id)
    )
    return [(type_, data) for type_, data in rows]


async def create_goal(gql: GraphQLClient, person: Person, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"title": "Laptop", "targetAmount": "100", "deadline": (today() + timedelta(days=30))
                           .isoformat(), **fields}}
    return (await gql.contract("earnings", "CreateGoal", variables, token=person.token)).ok()["createGoal"]


async def test_the_current_amount_counts_the_goals_currency_inside_its_window(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given a EUR goal from 10 days ago to 10 days ahead
    platform = await add_platform(session, fran.user)
    d = today()
    await add_goal(session, fran.user, 100_00, d - timedelta(days=10), d + timedelta(days=10), currency="EUR")
    # And earnings inside and outside it
    await add_earning(session, platform, d - timedelta(days=10), 10_00, currency="EUR")  # first day: counts
    await add_earning(session, platform, d + timedelta(days=1), 15_00, currency="EUR")  # tomorrow: counts
    await add_earning(session, platform, d - timedelta(days=11), 1_000_00, currency="EUR")  # before it
    await add_earning(session, platform, d, 1_000_00, currency="USD")  # another currency
    ottos = await add_platform(session, otto.user)
    await add_earning(session, ottos, d, 1_000_00, currency="EUR")  # someone else's
    # Then it stands at 25 EUR of 100
    node = (await gql.execute(GOALS, token=fran.token)).ok()["me"]["goals"]["edges"][0]["node"]
    assert node["currentAmount"] == {"amount": "25.00", "currency": "EUR"}
    assert node["progress"] == 0.25 and node["status"] == "ACTIVE"


async def test_progress_stays_within_one(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    platform = await add_platform(session, fran.user)
    d = today()
    await add_goal(session, fran.user, 100_00, d, d + timedelta(days=1), status="COMPLETED")
    await add_earning(session, platform, d, 250_00)
    node = (await gql.execute(GOALS, token=fran.token)).ok()["me"]["goals"]["edges"][0]["node"]
    assert (node["progress"], node["currentAmount"]["amount"]) == (1.0, "250.00")


async def test_reaching_the_target_completes_the_goal_and_notifies_once(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Given a goal of 100 USD and a platform
    platform = await add_platform(session, fran.user)
    goal = (await create_goal(gql, fran))["goal"]
    # When Fran earns 60, then 40, then 10 more
    await record(gql, fran, platform, amount="60")
    assert await goal_status(session, raw_id(goal["id"])) == "ACTIVE"
    await record(gql, fran, platform, amount="40")
    await record(gql, fran, platform, amount="10")
    # Then the goal is COMPLETED from the second earning, and Fran was notified once
    assert await goal_status(session, raw_id(goal["id"])) == "COMPLETED"
    assert await notifications(session, fran) == [("earnings.goal_completed", {"goalId": str(raw_id(goal["id"]))})]
    node = (await gql.execute(GOALS, token=fran.token)).ok()["me"]["goals"]["edges"][0]["node"]
    assert (node["status"], node["progress"]) == ("COMPLETED", 1.0)


async def test_a_correction_can_complete_a_goal_and_a_deletion_does_not_reopen_it(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user)
    goal = (await create_goal(gql, fran))["goal"]
    earning = (await record(gql, fran, platform, amount="50"))["earning"]
    # When the 50 is corrected to 100
    await gql.contract("earnings", "UpdateEarning", {"input": {"id": earning["id"], "amount": "100"}},
                       token=fran.token)
    assert await goal_status(session, raw_id(goal["id"])) == "COMPLETED"
    # And then deleted
    await gql.contract("earnings", "DeleteEarning", {"input": {"id": earning["id"]}}, token=fran.token)
    # Then the goal stays COMPLETED (reaching it is what counted), at 0 of 100 now
    node = (await gql.execute(GOALS, token=fran.token)).ok()["me"]["goals"]["edges"][0]["node"]
    assert (node["status"], node["currentAmount"]["amount"], node["progress"]) == ("COMPLETED", "0.00", 0.0)
    assert len(await notifications(session, fran)) == 1


async def test_earnings_in_another_currency_do_not_complete_a_goal(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user)
    goal = (await create_goal(gql, fran, currency="EUR"))["goal"]
    await record(gql, fran, platform, amount="500", currency="USD")
    assert await goal_status(session, raw_id(goal["id"])) == "ACTIVE"
    assert await notifications(session, fran) == []


async def test_a_goal_already_reached_when_set_is_completed_at_once(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user)
    await add_earning(session, platform, today(), 150_00)
    payload = await create_goal(gql, fran)
    assert (payload["goal"]["status"], payload["goal"]["progress"]) == ("COMPLETED", 1.0)
    assert [type_ for type_, _ in await notifications(session, fran)] == ["earnings.goal_completed"]


async def test_a_goal_starts_today_in_the_owners_timezone(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Just after midnight UTC it is still yesterday in Pago Pago (UTC-11)
    await set_profile(session, fran.user, timezone="Pacific/Pago_Pago")
    payload = await create_goal(gql, fran)
    goal = await session.get(Goal, raw_id(payload["goal"]["id"]))
    assert goal is not None and goal.starts_on == today() - timedelta(days=1)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": " "}, [("title", "INVALID")]),
        ({"title": "t" * 201}, [("title", "INVALID")]),
        ({"targetAmount": "0"}, [("targetAmount", "INVALID")]),
        ({"targetAmount": "1.001"}, [("targetAmount", "INVALID")]),
        ({"targetAmount": "1.5", "currency": "JPY"}, [("targetAmount", "INVALID")]),
        ({"currency": "ABC"}, [("currency", "INVALID")]),
        ({"description": "d" * 2001}, [("description", "INVALID")]),
        ({"deadline": "2000-01-01"}, [("deadline", "INVALID")]),
        ({"title": "", "targetAmount": "-1"}, [("title", "INVALID"), ("targetAmount", "INVALID")]),
    ],
)
async def test_a_bad_goal_is_refused_naming_its_field(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], expected: list[Any]
) -> None:
    payload = await create_goal(gql, fran, **fields)
    assert payload["goal"] is None and codes(payload) == expected
    assert await count(session, Goal) == 0


async def test_a_deadline_of_today_in_the_owners_timezone_is_accepted(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # UTC yesterday is today in Pago Pago just after midnight UTC
    await set_profile(session, fran.user, timezone="Pacific/Pago_Pago")
    payload = await create_goal(gql, fran, deadline=(today() - timedelta(days=1)).isoformat())
    assert payload["errors"] == []
    refused = await create_goal(gql, fran, deadline=(today() - timedelta(days=2)).isoformat())
    assert codes(refused) == [("deadline", "INVALID")]


async def run_deadline_job(runtime: Runtime) -> int:
    return (await mark_missed_earning_goals({"runtime": runtime}))["marked"]


async def test_the_deadline_job_marks_passed_goals_missed_once(
    runtime: Runtime, session: AsyncSession, fran: Person
) -> None:
    # Given goals due yesterday (passed), today (not yet), and one already completed yesterday
    d = today()
    passed = await add_goal(session, fran.user, 100, d - timedelta(days=30), d - timedelta(days=1), title="Passed")
    due_today = await add_goal(session, fran.user, 100, d - timedelta(days=30), d, title="Today")
    done = await add_goal(session, fran.user, 100, d - timedelta(days=30), d - timedelta(days=1), status="COMPLETED")
    # When the job runs, twice
    assert await run_deadline_job(runtime) == 1
    assert await run_deadline_job(runtime) == 0
    # Then only the passed goal is MISSED, and Fran was told once
    assert [await goal_status(session, g.id) for g in (passed, due_today, done)] == ["MISSED", "ACTIVE", "COMPLETED"]
    assert await notifications(session, fran) == [("earnings.goal_missed", {"goalId": str(passed.id)})]
    # And a day later the goal due today is missed too
    clock.advance(timedelta(days=1))
    assert await run_deadline_job(runtime) == 1
    assert await goal_status(session, due_today.id) == "MISSED"


@pytest.mark.parametrize(
    ("timezone", "deadline_offset", "missed_at_hour"),
    [
        # Kiritimati (UTC+14): a deadline of UTC-today ends at 10:00 UTC
        ("Pacific/Kiritimati", 0, 10),
        # Pago Pago (UTC-11): a deadline of UTC-yesterday ends at 11:00 UTC today
        ("Pacific/Pago_Pago", -1, 11),
    ],
)
async def test_the_deadline_is_the_end_of_the_day_in_the_owners_timezone(
    runtime: Runtime, session: AsyncSession, fran: Person, timezone: str, deadline_offset: int, missed_at_hour: int
) -> None:
    await set_profile(session, fran.user, timezone=timezone)
    d = today()
    goal = await add_goal(session, fran.user, 100, d - timedelta(days=5), d + timedelta(days=deadline_offset))
    # An hour before the deadline ends there, the job leaves the goal alone
    clock.advance(timedelta(hours=missed_at_hour - 1))
    assert await run_deadline_job(runtime) == 0
    # Once midnight has passed there, it is MISSED
    clock.advance(timedelta(hours=1))
    assert await run_deadline_job(runtime) == 1
    assert await goal_status(session, goal.id) == "MISSED"


async def test_the_deadline_job_goes_through_every_batch(session: AsyncSession, fran: Person, otto: Person) -> None:
    # Given five passed goals, with goals not yet passed (Kiritimati's) among them in deadline order
    await set_profile(session, otto.user, timezone="Pacific/Kiritimati")
    d = today()
    passed = [await add_goal(session, fran.user, 100, d - timedelta(days=9), d - timedelta(days=n)) for n in (1, 2, 3)]
    passed.append(await add_goal(session, otto.user, 100, d - timedelta(days=9), d - timedelta(days=1)))
    pending = await add_goal(session, otto.user, 100, d - timedelta(days=9), d)
    # When the service works in batches of two
    marked, after = [], None
    while True:
        batch = await mark_missed_goals(session, clock.now(), after=after, limit=2)
        marked += [goal.id for goal in batch.marked]
        if batch.resume_after is None:
            break
        after = batch.resume_after
    # Then each passed goal is marked once and the pending one is left
    assert sorted(marked) == sorted(goal.id for goal in passed)
    assert await goal_status(session, pending.id) == "ACTIVE"


def test_the_deadline_job_is_registered_and_runs_hourly() -> None:
    assert functions_by_name()["mark_missed_earning_goals"] is mark_missed_earning_goals
    entry = next(entry for entry in CRON if entry.function is mark_missed_earning_goals)
    # Every hour at :05, so every timezone's midnight is met within the hour
    assert (entry.minute, entry.hour, entry.day, entry.weekday) == (5, None, None, None)


async def test_a_missed_goal_is_not_completed_by_later_earnings(
    gql: GraphQLClient, runtime: Runtime, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user)
    d = today()
    goal = await add_goal(session, fran.user, 100_00, d - timedelta(days=9), d - timedelta(days=1))
    await run_deadline_job(runtime)
    await record(gql, fran, platform, amount="500", date=(d - timedelta(days=2)).isoformat())
    assert await goal_status(session, goal.id) == "MISSED"


@pytest.mark.postgres
async def test_two_earnings_committed_at_once_complete_the_goal(committed_runtime: Runtime) -> None:
    # Given a goal of 100 and two earnings of 60 arriving together
    fran = await committed_person(committed_runtime, email="fran@example.com")
    async with committed_runtime.database.sessions() as session:
        platform = await add_platform(session, fran.user)
        goal = await add_goal(session, fran.user, 100_00, today(), today() + timedelta(days=5))
    gql = GraphQLClient(create_app(runtime=committed_runtime))
    try:
        for _ in range(5):  # several rounds: the race must never leave the goal ACTIVE
            results = await asyncio.gather(*(record(gql, fran, platform, amount="60") for _ in range(2)))
            assert all(result["errors"] == [] for result in results)
            async with committed_runtime.database.sessions() as session:
                assert await goal_status(session, goal.id) == "COMPLETED"
                assert len(await notifications(session, fran)) == 1
                # Start the next round from an ACTIVE goal with nothing earned
                row = await session.get(Goal, goal.id)
                row.status, row.completed_at, row.starts_on = "ACTIVE", None, row.starts_on + timedelta(days=1)
                row.deadline = row.starts_on + timedelta(days=5)
                await session.execute(Notification.__table__.delete())
                await session.commit()
            clock.advance(timedelta(days=1))
            fran = await _signed_in_again(committed_runtime, fran)
    finally:
        await gql.aclose()


async def _signed_in_again(runtime: Runtime, person: Person) -> Person:
    async with runtime.database.sessions() as session:
        return await sign_in(session, person.user)


__all__ = ["gid"]
