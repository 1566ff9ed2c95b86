"""Gifts: hidden from the child until their points reach the threshold (in the same transaction
that credited them), then opened by the child for the threshold in points, all or nothing, once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyEntitlement, FamilyGift
from graph.app import create_app
from tally.runtime import Runtime
from tests.family.conftest import (
    Family,
    answer_of,
    assert_ledger_clean,
    balance_of,
    count_rows,
    earn,
    errors_of,
    gid,
    make_family,
    make_gift,
    make_task,
    notifications_of,
)
from tests.support.client import GraphQLClient

GIFT_NODE = "query($id: ID!) { node(id: $id) { ... on Gift { id status } } }"
GIFTS = "query { me { childProfile { gifts(first: 20) { totalCount edges { node { id status } } } } } }"


def send(child_id: str, **overrides: Any) -> dict[str, Any]:
    return {"input": {"childId": child_id, "title": "A bike", "pointsThreshold": 50, "message": "For you!",
                      **overrides}}


def activate(gift: FamilyGift) -> dict[str, Any]:
    return {"input": {"giftId": gid("Gift", gift.id)}}


async def status_of(session: AsyncSession, gift: FamilyGift) -> str:
    return (await session.get(FamilyGift, gift.id, populate_existing=True)).status  # type: ignore[union-attr]


async def test_a_parent_sends_a_gift_the_child_cannot_see(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    child_id = gid("Child", smiths.child.user.id)
    # When the parent sends a gift
    payload = (await gql.contract("family", "SendGift", send(child_id), token=smiths.parent.token)).ok()["sendGift"]
    assert payload["errors"] == []
    gift = payload["gift"]
    assert gift | {"id": None} == {"id": None, "title": "A bike", "message": "For you!", "pointsThreshold": 50,
                                   "status": "SENT", "child": {"id": child_id}}
    # Then the parent sees it, and the child sees it nowhere: not in lists, not by id
    dashboard = (await gql.contract("family", "FamilyDashboard", {}, token=smiths.parent.token)).ok()
    assert dashboard["me"]["children"]["edges"][0]["node"]["gifts"]["edges"][0]["node"]["id"] == gift["id"]
    home = (await gql.contract("family", "ChildHome", {}, token=smiths.child.token)).ok()
    assert home["me"]["childProfile"]["gifts"]["edges"] == []
    assert (await gql.execute(GIFTS, token=smiths.child.token)).ok()["me"]["childProfile"]["gifts"]["totalCount"] == 0
    assert (await gql.execute(GIFT_NODE, {"id": gift["id"]}, token=smiths.child.token)).ok() == {"node": None}
    assert (await gql.execute(GIFT_NODE, {"id": gift["id"]}, token=smiths.parent.token)).ok()["node"] is not None
    # Nor can the child open it: it does not exist for them
    opened = (await gql.contract("family", "ActivateGift", {"input": {"giftId": gift["id"]}},
                                 token=smiths.child.token)).ok()["activateGift"]
    assert errors_of(opened) == [("giftId", "NOT_FOUND")]
    # And no notification gives it away
    assert await notifications_of(session, smiths.child.user.id) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"title": " "}, [("title", "INVALID")]),
        ({"pointsThreshold": 0}, [("pointsThreshold", "INVALID")]),
        ({"pointsThreshold": 1_000_001}, [("pointsThreshold", "INVALID")]),
        ({"message": "x" * 2001}, [("message", "INVALID")]),
    ],
)
async def test_bad_gift_input_names_the_field(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, overrides: dict[str, Any], expected: list[Any]
) -> None:
    variables = send(gid("Child", smiths.child.user.id), **overrides)
    payload = (await gql.contract("family", "SendGift", variables, token=smiths.parent.token)).ok()["sendGift"]
    assert payload["gift"] is None and errors_of(payload) == expected
    assert await count_rows(session, FamilyGift) == 0


async def test_a_gift_for_someone_elses_child_is_not_found(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    variables = send(gid("Child", joneses.child.user.id))
    payload = (await gql.contract("family", "SendGift", variables, token=smiths.parent.token)).ok()["sendGift"]
    assert errors_of(payload) == [("childId", "NOT_FOUND")]
    assert await count_rows(session, FamilyGift) == 0


async def test_reaching_the_threshold_unlocks_in_the_answers_transaction(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given a 50-point gift and 40 points, and a task worth 10
    small, big = await make_gift(session, smiths, 50, "Ice cream"), await make_gift(session, smiths, 80, "A bike")
    await earn(session, smiths, 40)
    assert await status_of(session, small) == "SENT"
    task = await make_task(session, smiths, reward=10)
    right = await answer_of(session, task, True)
    # When the answer brings the child to 50
    variables = {"input": {"taskId": gid("Task", task.id), "answerId": gid("TaskAnswer", right.id)}}
    payload = (await gql.contract("family", "SubmitTaskAnswer", variables, token=smiths.child.token)).ok()
    # Then the payload names the unlocked gift, and only that one
    assert payload["submitTaskAnswer"]["unlockedGifts"] == [
        {"id": gid("Gift", small.id), "title": "Ice cream", "status": "UNLOCKED"}
    ]
    assert await status_of(session, small) == "UNLOCKED" and await status_of(session, big) == "SENT"
    # And both the child and the parent were told
    assert len(await notifications_of(session, smiths.child.user.id, "family.gift_unlocked")) == 1
    assert len(await notifications_of(session, smiths.parent.user.id, "family.gift_unlocked")) == 1
    # And the child sees it now, as UNLOCKED, with when
    home = (await gql.contract("family", "ChildHome", {}, token=smiths.child.token)).ok()
    gifts = home["me"]["childProfile"]["gifts"]["edges"]
    assert [(g["node"]["title"], g["node"]["status"]) for g in gifts] == [("Ice cream", "UNLOCKED")]
    assert gifts[0]["node"]["unlockedAt"] is not None


async def test_a_gift_the_child_can_already_afford_unlocks_when_sent(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    await earn(session, smiths, 60)
    variables = send(gid("Child", smiths.child.user.id), pointsThreshold=60)
    payload = (await gql.contract("family", "SendGift", variables, token=smiths.parent.token)).ok()["sendGift"]
    assert payload["gift"]["status"] == "UNLOCKED"
    assert len(await notifications_of(session, smiths.child.user.id, "family.gift_unlocked")) == 1


async def test_opening_a_gift_moves_its_points_to_the_parent_and_records_an_entitlement(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given an unlocked 50-point gift and 70 points
    gift = await make_gift(session, smiths, 50)
    await earn(session, smiths, 70)
    # When the child opens it
    payload = (await gql.contract("family", "ActivateGift", activate(gift), token=smiths.child.token)).ok()
    result = payload["activateGift"]
    # Then it is ACTIVATED and 50 points went from the child to the parent
    assert result["errors"] == []
    assert result["gift"]["status"] == "ACTIVATED" and result["gift"]["activatedAt"] is not None
    assert result["child"] == {"id": gid("Child", smiths.child.user.id), "points": 20}
    assert await balance_of(session, smiths.parent.user.id) == 50
    entitlement = await session.scalar(select(FamilyEntitlement).where(FamilyEntitlement.gift_id == gift.id))
    assert entitlement is not None and entitlement.child_id == smiths.child.user.id
    assert len(await notifications_of(session, smiths.parent.user.id, "family.gift_activated")) == 1
    # And the child's history shows the points leaving
    history = """query { me { childProfile { pointsHistory(first: 1) { edges { node { amount balanceAfter reason } } }
    } } }"""
    latest = (await gql.execute(history, token=smiths.child.token)).ok()["me"]["childProfile"]["pointsHistory"]
    assert latest["edges"][0]["node"] == {"amount": -50, "balanceAfter": 20, "reason": "family.gift_activated"}
    # And opening it again is refused, changing nothing
    again = (await gql.contract("family", "ActivateGift", activate(gift), token=smiths.child.token)).ok()
    assert errors_of(again["activateGift"]) == [("giftId", "NOT_UNLOCKED")]
    assert await balance_of(session, smiths.child.user.id) == 20
    assert await count_rows(session, FamilyEntitlement) == 1
    await assert_ledger_clean(session)


async def test_opening_without_enough_points_left_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, smiths: Family
) -> None:
    # Given two gifts unlocked at 50 and 60 points, and 60 points
    first, second = await make_gift(session, smiths, 50, "First"), await make_gift(session, smiths, 60, "Second")
    await earn(session, smiths, 60)
    assert {await status_of(session, first), await status_of(session, second)} == {"UNLOCKED"}
    # When the child opens the first, then the second
    await gql.contract("family", "ActivateGift", activate(first), token=smiths.child.token)
    refused = (await gql.contract("family", "ActivateGift", activate(second), token=smiths.child.token)).ok()
    # Then the second is refused, all or nothing
    assert errors_of(refused["activateGift"]) == [("giftId", "INSUFFICIENT_POINTS")]
    assert refused["activateGift"]["gift"] is None
    assert await status_of(session, second) == "UNLOCKED"
    assert await balance_of(session, smiths.child.user.id) == 10
    assert await balance_of(session, smiths.parent.user.id) == 50
    assert await count_rows(session, FamilyEntitlement, FamilyEntitlement.gift_id == second.id) == 0
    await assert_ledger_clean(session)


async def test_another_childs_gift_is_not_found(
    gql: GraphQLClient, session: AsyncSession, smiths: Family, joneses: Family
) -> None:
    gift = await make_gift(session, smiths, 10)
    await earn(session, smiths, 10)
    payload = (await gql.contract("family", "ActivateGift", activate(gift), token=joneses.child.token)).ok()
    assert errors_of(payload["activateGift"]) == [("giftId", "NOT_FOUND")]
    assert await status_of(session, gift) == "UNLOCKED"


@pytest.mark.postgres
@pytest.mark.committed
async def test_opening_one_gift_twice_at_once_happens_once(committed_runtime: Runtime) -> None:
    # Given unlocked gifts and points enough for all of them twice over
    async with committed_runtime.database.sessions() as session:
        family = await make_family(session, "pat@example.com", "kit")
        gifts = [await make_gift(session, family, 10, f"Gift {n}") for n in range(6)]
        await earn(session, family, 200)
    client = GraphQLClient(create_app(runtime=committed_runtime))
    try:
        # When the child taps "open" twice at once on each
        outcomes = []
        for gift in gifts:
            pair = await asyncio.gather(*(
                client.contract("family", "ActivateGift", activate(gift), token=family.child.token) for _ in range(2)
            ))
            outcomes.append(sorted(str(errors_of(r.ok()["activateGift"])) for r in pair))
    finally:
        await client.aclose()
    # Then each opened once: one success, one NOT_UNLOCKED; points moved once per gift
    assert outcomes == [["[('giftId', 'NOT_UNLOCKED')]", "[]"]] * len(gifts)
    async with committed_runtime.database.sessions() as session:
        assert await count_rows(session, FamilyEntitlement) == len(gifts)
        assert await balance_of(session, family.child.user.id) == 200 - 10 * len(gifts)
        assert await balance_of(session, family.parent.user.id) == 10 * len(gifts)
        await assert_ledger_clean(session)
