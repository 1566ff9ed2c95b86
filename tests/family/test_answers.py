"""Answers: every attempt recorded with its time; the first correct one completes the task and
pays once through the ledger (also when two arrive at the same moment); wrong ones say try again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyTask, FamilyTaskAttempt
from db.models.ledger import JournalEntry
from domain.family.points import task_reward_key
from graph.app import create_app
from tally.clock import Clock, clock
from tally.runtime import Runtime
from tests.family.conftest import (
    Family,
    answer_of,
    assert_ledger_clean,
    balance_of,
    count_rows,
    errors_of,
    gid,
    make_family,
    make_task,
    notifications_of,
)
from tests.support.client import GraphQLClient

HISTORY = """query { me { childProfile { points pointsHistory(first: 10) { totalCount edges { node {
  amount balanceAfter reason memo } } } } } }"""


def submit(task: FamilyTask, answer_id: Any) -> dict[str, Any]:
    return {"input": {"taskId": gid("Task", task.id), "answerId": gid("TaskAnswer", answer_id)}}


async def test_a_wrong_answer_is_recorded_pays_nothing_and_says_try_again(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, frozen_clock: Clock
) -> None:
    # Given a task the child opened a minute ago
    task = await make_task(session, smiths, reward=20)
    await gql.execute("mutation($i: OpenTaskInput!) { openTask(input: $i) { errors { code } } }",
                      {"i": {"taskId": gid("Task", task.id)}}, token=smiths.child.token)
    clock.advance(timedelta(seconds=61))
    wrong = await answer_of(session, task, False)
    # When the child answers wrongly
    payload = (await gql.contract("family", "SubmitTaskAnswer", submit(task, wrong.id), token=smiths.child.token))
    result = payload.ok()["submitTaskAnswer"]
    # Then the attempt is recorded, the task stays pending and no points move
    assert result["errors"] == [] and result["unlockedGifts"] == []
    assert result["result"] | {"id": None, "completedAt": None} == {
        "id": None, "correct": False, "pointsEarned": 0, "completedAt": None,
    }
    assert result["task"]["status"] == "PENDING" and result["child"]["points"] == 0
    attempt = await session.scalar(select(FamilyTaskAttempt).where(FamilyTaskAttempt.task_id == task.id))
    assert attempt is not None and attempt.time_taken_seconds == 61 and attempt.correct is False
    assert await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == task_reward_key(task.id))) \
        is None
    # And the child is told to try again
    assert len(await notifications_of(session, smiths.child.user.id, "family.try_again")) == 1


async def test_the_first_correct_answer_completes_the_task_and_pays_once(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given a 20-point task the child got wrong once
    task = await make_task(session, smiths, reward=20, question="What is 6 x 7?")
    wrong, right = await answer_of(session, task, False), await answer_of(session, task, True)
    token = smiths.child.token
    await gql.contract("family", "SubmitTaskAnswer", submit(task, wrong.id), token=token)
    # When the child answers right
    result = (await gql.contract("family", "SubmitTaskAnswer", submit(task, right.id), token=token)).ok()
    payload = result["submitTaskAnswer"]
    # Then the task is completed and the reward paid
    assert payload["errors"] == []
    assert payload["result"]["correct"] is True and payload["result"]["pointsEarned"] == 20
    assert payload["task"] == {"id": gid("Task", task.id), "status": "COMPLETED"}
    assert payload["child"] == {"id": gid("Child", smiths.child.user.id), "points": 20}
    # And the points history is the child's ledger account
    profile = (await gql.execute(HISTORY, token=token)).ok()["me"]["childProfile"]
    assert profile["points"] == 20
    assert profile["pointsHistory"]["edges"] == [{"node": {
        "amount": 20, "balanceAfter": 20, "reason": "family.task_reward", "memo": "What is 6 x 7?",
    }}]
    # And later submissions, right or wrong, are refused and change nothing
    for answer in (right, wrong):
        again = (await gql.contract("family", "SubmitTaskAnswer", submit(task, answer.id), token=token)).ok()
        assert errors_of(again["submitTaskAnswer"]) == [("taskId", "ALREADY_COMPLETED")]
    assert await count_rows(session, FamilyTaskAttempt) == 2
    assert await balance_of(session, smiths.child.user.id) == 20
    assert len(await notifications_of(session, smiths.child.user.id, "family.task_completed")) == 1
    assert len(await notifications_of(session, smiths.parent.user.id, "family.task_completed")) == 1
    await assert_ledger_clean(session)


async def test_an_answer_of_another_task_is_not_found(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    task, other = await make_task(session, smiths), await make_task(session, smiths, question="Other?")
    foreign = await answer_of(session, other, True)
    payload = (await gql.contract("family", "SubmitTaskAnswer", submit(task, foreign.id), token=smiths.child.token))
    assert errors_of(payload.ok()["submitTaskAnswer"]) == [("answerId", "NOT_FOUND")]
    assert await count_rows(session, FamilyTaskAttempt) == 0


async def test_another_childs_task_is_not_found(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    task = await make_task(session, smiths)
    right = await answer_of(session, task, True)
    payload = (await gql.contract("family", "SubmitTaskAnswer", submit(task, right.id), token=joneses.child.token))
    assert errors_of(payload.ok()["submitTaskAnswer"]) == [("taskId", "NOT_FOUND")]
    assert await count_rows(session, FamilyTaskAttempt) == 0
    assert await balance_of(session, joneses.child.user.id) == 0


async def test_an_unopened_task_answered_counts_as_opened_without_a_time(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    task = await make_task(session, smiths)
    right = await answer_of(session, task, True)
    await gql.contract("family", "SubmitTaskAnswer", submit(task, right.id), token=smiths.child.token)
    attempt = await session.scalar(select(FamilyTaskAttempt))
    reloaded = await session.get(FamilyTask, task.id, populate_existing=True)
    assert attempt is not None and attempt.time_taken_seconds is None
    assert reloaded is not None and reloaded.opened_at is not None


@pytest.mark.postgres
@pytest.mark.committed
async def test_two_right_answers_at_the_same_moment_pay_once(committed_runtime: Runtime) -> None:
    # Given several tasks (each a separate race), really committed
    async with committed_runtime.database.sessions() as session:
        family = await make_family(session, "pat@example.com", "kit")
        tasks = [await make_task(session, family, reward=7, question=f"Race {n}") for n in range(8)]
        rights = [await answer_of(session, task, True) for task in tasks]
    client = GraphQLClient(create_app(runtime=committed_runtime))
    try:
        # When the child sends the right answer twice at once, for every task
        outcomes = []
        for task, right in zip(tasks, rights, strict=True):
            pair = await asyncio.gather(*(
                client.contract("family", "SubmitTaskAnswer", submit(task, right.id), token=family.child.token)
                for _ in range(2)
            ))
            outcomes.append(sorted(str(errors_of(r.ok()["submitTaskAnswer"])) for r in pair))
    finally:
        await client.aclose()
    # Then each time one succeeded and the other found it completed
    assert outcomes == [["[('taskId', 'ALREADY_COMPLETED')]", "[]"]] * len(tasks)
    async with committed_runtime.database.sessions() as session:
        # And each task paid once: one entry, one paid attempt, 7 points per task
        assert await count_rows(session, FamilyTaskAttempt) == len(tasks)
        keys = [task_reward_key(task.id) for task in tasks]
        assert await count_rows(session, JournalEntry, JournalEntry.idempotency_key.in_(keys)) == len(tasks)
        assert await balance_of(session, family.child.user.id) == 7 * len(tasks)
        await assert_ledger_clean(session)
