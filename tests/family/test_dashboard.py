"""The parent dashboard: what FamilyDashboard shows, and that its SQL does not grow with the family."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyGift, FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from tally.clock import clock
from tests.conftest import Backend
from tests.family.conftest import Family, gid, make_child, make_family
from tests.support.client import GraphQLClient
from tests.support.statements import count_statements

TASKS_PER_CHILD = 20


async def seed(session: AsyncSession, family: Family, children: int) -> None:
    """`children` children with 20 tasks each (5 completed, with a result), 3 gifts, written in bulk."""
    now = clock.now()
    for n in range(children):
        child = await make_child(session, family.parent, f"{family.parent.user.name.lower()}-kid-{n}")
        family.children.append(child)
        for t in range(TASKS_PER_CHILD):
            task_id, answer_id = uuid.uuid4(), uuid.uuid4()
            completed = t < 5
            created = now + timedelta(seconds=t)
            session.add(FamilyTask(
                id=task_id, child_id=child.user.id, parent_id=family.parent.user.id, question=f"Q{t}", subject="maths",
                points_reward=5, status="COMPLETED" if completed else "PENDING", created_at=created,
                updated_at=created, completed_at=created if completed else None,
            ))
            session.add(FamilyTaskAnswer(id=answer_id, task_id=task_id, position=0, text="yes", correct=True))
            session.add(FamilyTaskAnswer(task_id=task_id, position=1, text="no", correct=False))
            if completed:
                session.add(FamilyTaskAttempt(task_id=task_id, child_id=child.user.id, answer_id=answer_id,
                                              correct=True, points_earned=5, time_taken_seconds=30, created_at=created))
        for g in range(3):
            session.add(FamilyGift(child_id=child.user.id, parent_id=family.parent.user.id, title=f"Gift {g}",
                                   points_threshold=100 * (g + 1), status="SENT", created_at=now, updated_at=now))
        await session.flush()
    await session.commit()


async def test_the_dashboard_shows_each_childs_pending_tasks_gifts_and_results(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    family = await make_family(session, "pat@example.com")
    await seed(session, family, 2)
    variables = {"childrenFirst": 10, "tasksFirst": 3}
    me = (await gql.contract("family", "FamilyDashboard", variables, token=family.parent.token)).ok()["me"]
    assert me["children"]["totalCount"] == 2
    first = me["children"]["edges"][0]["node"]
    assert first["id"] == gid("Child", family.children[0].user.id) and first["points"] == 0
    # Pending only, newest first, three of fifteen
    tasks = first["tasks"]
    assert tasks["totalCount"] == TASKS_PER_CHILD - 5
    assert [e["node"]["question"] for e in tasks["edges"]] == ["Q19", "Q18", "Q17"]
    assert tasks["edges"][0]["node"] | {"id": None, "createdAt": None} == {
        "id": None, "question": "Q19", "pointsReward": 5, "status": "PENDING", "subject": "maths", "createdAt": None,
    }
    assert len(first["gifts"]["edges"]) == 3 and first["gifts"]["edges"][0]["node"]["unlockedAt"] is None
    results = first["taskResults"]["edges"]
    assert [r["node"]["task"]["question"] for r in results] == ["Q4", "Q3", "Q2", "Q1", "Q0"]
    assert results[0]["node"] | {"id": None, "completedAt": None, "task": None} == {
        "id": None, "correct": True, "pointsEarned": 5, "completedAt": None, "task": None,
    }


async def test_the_dashboard_costs_the_same_sql_for_5_children_as_for_50(
    gql: GraphQLClient, session: AsyncSession, backend: Backend
) -> None:
    # Given a family of 5 and a family of 50, 20 tasks each
    small, large = await make_family(session, "small@example.com"), await make_family(session, "large@example.com")
    await seed(session, small, 5)
    await seed(session, large, 50)
    variables = {"childrenFirst": 50, "tasksFirst": 20}
    counts = []
    for family, size in ((small, 5), (large, 50)):
        # When each parent loads the dashboard
        with count_statements(backend.engine) as log:
            me = (await gql.contract("family", "FamilyDashboard", variables, token=family.parent.token)).ok()["me"]
        # Then everything is there
        assert me["children"]["totalCount"] == size
        assert all(len(e["node"]["tasks"]["edges"]) == 15 for e in me["children"]["edges"])
        assert all(len(e["node"]["taskResults"]["edges"]) == 5 for e in me["children"]["edges"])
        counts.append(log.count)
    # And the number of statements is the same, one per relation level
    assert counts[0] == counts[1], counts
    assert counts[0] <= 10, counts


async def test_a_repeated_dashboard_is_validated_once(gql: GraphQLClient, session: AsyncSession) -> None:
    # The depth and alias limits must not defeat the validation cache (they once built new rule
    # classes per request, so every dashboard was validated again: ~10% of its time)
    from strawberry.extensions.validation_cache import _get_validate_cache

    family = await make_family(session, "pat@example.com", "kit")
    cache = _get_validate_cache(1024)
    await gql.contract("family", "FamilyDashboard", {}, token=family.parent.token)
    before = cache.cache_info()
    for _ in range(3):
        await gql.contract("family", "FamilyDashboard", {}, token=family.parent.token)
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
