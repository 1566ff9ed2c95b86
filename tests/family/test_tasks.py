"""Tasks: set by a parent for their own child, validated field by field, listed newest first,
opened by the child; which answer is correct is shown to the parent and never to the child."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyTask, FamilyTaskAnswer
from tally.clock import clock
from tests.family.conftest import (
    Family,
    answer_of,
    count_rows,
    errors_of,
    gid,
    make_task,
    notifications_of,
)
from tests.support.client import GraphQLClient

OPEN = """mutation($input: OpenTaskInput!) {
  openTask(input: $input) { task { id openedAt } errors { field code message } } }"""
TASK_NODE = """query($id: ID!) { node(id: $id) { ... on Task { id question answers { id text correct } } } }"""
ANSWER_NODE = """query($id: ID!) { node(id: $id) { ... on TaskAnswer { id text correct } } }"""
TASKS = """query($id: ID!, $status: TaskStatus) { node(id: $id) { ... on Child {
  tasks(first: 10, status: $status) { totalCount edges { node { question status } } } } } }"""


def task_input(child_id: str, **overrides: Any) -> dict[str, Any]:
    return {"input": {
        "childId": child_id, "question": "Capital of France?", "pointsReward": 25, "subject": "geography",
        "answers": [{"text": "Paris", "correct": True}, {"text": "Lyon", "correct": False}],
        **overrides,
    }}


async def test_a_parent_sets_a_task_and_the_child_is_told(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    child_id = gid("Child", smiths.child.user.id)
    # When the parent creates a task
    response = await gql.contract("family", "CreateTask", task_input(child_id), token=smiths.parent.token)
    payload = response.ok()["createTask"]
    # Then the task is PENDING and the parent sees which answer is correct
    assert payload["errors"] == []
    task = payload["task"]
    assert task | {"id": None, "answers": None} == {
        "id": None, "question": "Capital of France?", "pointsReward": 25, "status": "PENDING",
        "subject": "geography", "answers": None, "child": {"id": child_id, "name": "Kit"},
    }
    assert [(a["text"], a["correct"]) for a in task["answers"]] == [("Paris", True), ("Lyon", False)]
    # And the child got a notification
    notes = await notifications_of(session, smiths.child.user.id, "family.task_created")
    assert len(notes) == 1 and "Capital of France?" in notes[0].message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"answers": [{"text": "Paris", "correct": True}]}, [("answers", "INVALID")]),
        ({"answers": [{"text": str(n), "correct": n == 0} for n in range(7)]}, [("answers", "INVALID")]),
        ({"answers": [{"text": "Paris", "correct": True}, {"text": "Nice", "correct": True}]},
         [("answers", "INVALID")]),
        ({"answers": [{"text": "Paris", "correct": False}, {"text": "Nice", "correct": False}]},
         [("answers", "INVALID")]),
        ({"answers": [{"text": "Paris", "correct": True}, {"text": "  ", "correct": False}]},
         [("answers.1.text", "INVALID")]),
        ({"answers": [{"text": "Paris", "correct": True}, {"text": "paris", "correct": False}]},
         [("answers", "INVALID")]),
        ({"pointsReward": 0}, [("pointsReward", "INVALID")]),
        ({"pointsReward": 10_001}, [("pointsReward", "INVALID")]),
        ({"question": "   "}, [("question", "INVALID")]),
        ({"subject": "x" * 101}, [("subject", "INVALID")]),
        ({"question": "", "pointsReward": -5}, [("question", "INVALID"), ("pointsReward", "INVALID")]),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, overrides: dict[str, Any], expected: list[Any]
) -> None:
    variables = task_input(gid("Child", smiths.child.user.id), **overrides)
    payload = (await gql.contract("family", "CreateTask", variables, token=smiths.parent.token)).ok()["createTask"]
    assert payload["task"] is None and errors_of(payload) == expected
    assert await count_rows(session, FamilyTask) == 0
    assert await notifications_of(session, smiths.child.user.id) == []


async def test_the_limits_themselves_are_accepted(gql: GraphQLClient, smiths: Family) -> None:
    six = [{"text": f"answer {n}", "correct": n == 5} for n in range(6)]
    two = [{"text": "yes", "correct": True}, {"text": "no", "correct": False}]
    for reward, answers in ((1, six), (10_000, two)):
        variables = task_input(gid("Child", smiths.child.user.id), pointsReward=reward, answers=answers)
        payload = (await gql.contract("family", "CreateTask", variables, token=smiths.parent.token)).ok()
        assert payload["createTask"]["errors"] == []


async def test_a_task_for_someone_elses_child_is_not_found(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    for child_id in (gid("Child", joneses.child.user.id), gid("Gift", joneses.child.user.id), "garbage"):
        variables = task_input(child_id)
        payload = (await gql.contract("family", "CreateTask", variables, token=smiths.parent.token)).ok()
        assert errors_of(payload["createTask"]) == [("childId", "NOT_FOUND")]
    assert await count_rows(session, FamilyTask) == 0


async def test_the_child_never_sees_which_answer_is_correct(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given a task
    task = await make_task(session, smiths)
    right = await answer_of(session, task, True)
    task_id, answer_id = gid("Task", task.id), gid("TaskAnswer", right.id)
    child = smiths.child.token
    # Then through node(id:) on the task and on the answer, correct is null for the child
    as_child = (await gql.execute(TASK_NODE, {"id": task_id}, token=child)).ok()["node"]
    assert {a["correct"] for a in as_child["answers"]} == {None}
    assert (await gql.execute(ANSWER_NODE, {"id": answer_id}, token=child)).ok()["node"] == {
        "id": answer_id, "text": "42", "correct": None,
    }
    # And the parent sees it
    as_parent = (await gql.execute(TASK_NODE, {"id": task_id}, token=smiths.parent.token)).ok()["node"]
    assert [a["correct"] for a in as_parent["answers"]] == [True, False, False]
    # And the child's home lists the answers without a `correct` to ask for at all
    home = (await gql.contract("family", "ChildHome", {"tasksFirst": 5}, token=child)).ok()["me"]["childProfile"]
    node = home["tasks"]["edges"][0]["node"]
    assert node["id"] == task_id and [a["text"] for a in node["answers"]] == ["42", "24", "48"]
    # And after answering, the result's answer still hides it
    await gql.contract("family", "SubmitTaskAnswer", {"input": {"taskId": task_id, "answerId": answer_id}},
                       token=child)
    results = """query { me { childProfile { taskResults(first: 5) { edges { node {
        correct answer { correct } task { answers { correct } } } } } } } }"""
    result = (await gql.execute(results, token=child)).ok()["me"]["childProfile"]["taskResults"]["edges"][0]["node"]
    assert result == {"correct": True, "answer": {"correct": None}, "task": {"answers": [{"correct": None}] * 3}}


async def test_tasks_are_listed_newest_first_and_filtered_by_status(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    for question in ("first", "second", "third"):
        await make_task(session, smiths, question=question)
        clock.advance(timedelta(minutes=1))
    # The oldest gets completed
    done = await session.get(FamilyTask, (await _task_by_question(session, "first")).id)
    done.status = "COMPLETED"
    await session.commit()
    child_id = gid("Child", smiths.child.user.id)
    everything = (await gql.execute(TASKS, {"id": child_id}, token=smiths.parent.token)).ok()["node"]["tasks"]
    assert [e["node"]["question"] for e in everything["edges"]] == ["third", "second", "first"]
    pending = (await gql.execute(TASKS, {"id": child_id, "status": "PENDING"}, token=smiths.child.token)).ok()
    assert pending["node"]["tasks"]["totalCount"] == 2
    assert [e["node"]["question"] for e in pending["node"]["tasks"]["edges"]] == ["third", "second"]


async def _task_by_question(session: AsyncSession, question: str) -> FamilyTask:
    found = await session.scalar(select(FamilyTask).where(FamilyTask.question == question))
    assert found is not None
    return found


async def test_opening_marks_the_first_time_only(gql: GraphQLClient, session: AsyncSession, smiths: Family) -> None:
    task = await make_task(session, smiths)
    task_id = gid("Task", task.id)
    first = (await gql.execute(OPEN, {"input": {"taskId": task_id}}, token=smiths.child.token)).ok()["openTask"]
    assert first["errors"] == [] and first["task"]["openedAt"] is not None
    clock.advance(timedelta(minutes=5))
    again = (await gql.execute(OPEN, {"input": {"taskId": task_id}}, token=smiths.child.token)).ok()["openTask"]
    assert again["task"]["openedAt"] == first["task"]["openedAt"]


async def test_only_the_tasks_child_opens_it(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    task = await make_task(session, smiths)
    payload = (await gql.execute(OPEN, {"input": {"taskId": gid("Task", task.id)}}, token=joneses.child.token)).ok()
    assert errors_of(payload["openTask"]) == [("taskId", "NOT_FOUND")]
    reloaded = await session.get(FamilyTask, task.id, populate_existing=True)
    assert reloaded is not None and reloaded.opened_at is None


async def test_answers_are_kept_in_the_order_given(session: AsyncSession, smiths: Family) -> None:
    task = await make_task(session, smiths)
    texts = (await session.scalars(
        select(FamilyTaskAnswer.text).where(FamilyTaskAnswer.task_id == task.id).order_by(FamilyTaskAnswer.position)
    )).all()
    assert list(texts) == ["42", "24", "48"]
