"""The dashboard's numbers: tasks completed, attempts, accuracy, points, time to solve, per day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from domain.family import answers, tasks
from tally.clock import Clock, clock
from tests.accounts.conftest import sign_in
from tests.family.conftest import Family, actor_of, answer_of, gid, make_task
from tests.support.client import GraphQLClient

STATS = """query($id: ID!, $from: Date, $to: Date) { node(id: $id) { ... on Child { stats(from: $from, to: $to) {
  from to tasksCompleted attempts correctAttempts accuracy pointsEarned averageSecondsToSolve
  days { date attempts correctAttempts tasksCompleted pointsEarned } } } } }"""


async def solve(session: AsyncSession, family: Family, reward: int, wrong_first: int, seconds: int) -> None:
    """A task opened, answered wrongly `wrong_first` times, then rightly `seconds` after opening."""
    task = await make_task(session, family, reward=reward, question=f"Q{reward}-{wrong_first}-{seconds}")
    child = actor_of(family.child)
    await tasks.open_task(session, child, task.id)
    wrong, right = await answer_of(session, task, False), await answer_of(session, task, True)
    for _ in range(wrong_first):
        await answers.submit_answer(session, child, task.id, wrong.id)
    clock.advance(timedelta(seconds=seconds))
    await answers.submit_answer(session, child, task.id, right.id)
    await session.commit()


async def test_stats_add_up_per_day_and_overall(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, frozen_clock: Clock
) -> None:
    # Given day 1: a task right first time in 30 s (10 points), another after two misses in 90 s (20 points)
    day1 = clock.now().date()
    await solve(session, smiths, 10, 0, 30)
    await solve(session, smiths, 20, 2, 90)
    # And day 3: one right first time in 60 s (5 points), and a miss on a task still open
    clock.advance(timedelta(days=2))
    await solve(session, smiths, 5, 0, 60)
    pending = await make_task(session, smiths, question="Still open")
    miss = await answer_of(session, pending, False)
    await answers.submit_answer(session, actor_of(smiths.child), pending.id, miss.id)
    await session.commit()
    # When the parent (signed in again: two days passed) asks for the three days
    token = (await sign_in(session, smiths.parent.user)).token
    day3 = day1 + timedelta(days=2)
    variables = {"id": gid("Child", smiths.child.user.id), "from": day1.isoformat(), "to": day3.isoformat()}
    stats = (await gql.execute(STATS, variables, token=token)).ok()["node"]["stats"]
    # Then the totals and the series agree
    assert stats | {"days": None} == {
        "from": day1.isoformat(), "to": day3.isoformat(), "tasksCompleted": 3, "attempts": 6, "correctAttempts": 3,
        "accuracy": 0.5, "pointsEarned": 35, "averageSecondsToSolve": 60.0, "days": None,
    }
    assert stats["days"] == [
        {"date": day1.isoformat(), "attempts": 4, "correctAttempts": 2, "tasksCompleted": 2, "pointsEarned": 30},
        {"date": (day1 + timedelta(days=1)).isoformat(), "attempts": 0, "correctAttempts": 0, "tasksCompleted": 0,
         "pointsEarned": 0},
        {"date": day3.isoformat(), "attempts": 2, "correctAttempts": 1, "tasksCompleted": 1, "pointsEarned": 5},
    ]
    # And a range with nothing in it is all zeros, with no accuracy or average
    later = {"id": variables["id"], "from": (day3 + timedelta(days=1)).isoformat(),
             "to": (day3 + timedelta(days=1)).isoformat()}
    empty = (await gql.execute(STATS, later, token=token)).ok()["node"]["stats"]
    assert (empty["attempts"], empty["accuracy"], empty["averageSecondsToSolve"]) == (0, None, None)


async def test_the_default_range_is_the_last_30_days(gql: GraphQLClient, smiths: Family) -> None:
    stats = (await gql.execute(STATS, {"id": gid("Child", smiths.child.user.id)}, token=smiths.parent.token)).ok()
    days = stats["node"]["stats"]["days"]
    assert len(days) == 30 and days[-1]["date"] == clock.now().date().isoformat()


async def test_a_backwards_or_too_long_range_is_a_client_error(gql: GraphQLClient, smiths: Family) -> None:
    child_id = gid("Child", smiths.child.user.id)
    for start, end in (("2026-03-02", "2026-03-01"), ("2024-01-01", "2026-01-01")):
        response = await gql.execute(STATS, {"id": child_id, "from": start, "to": end}, token=smiths.parent.token)
        assert response.error_codes == ["BAD_USER_INPUT"]
