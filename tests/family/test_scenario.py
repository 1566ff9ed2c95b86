"""The whole family contract, end to end, as the React client sends it; the ledger verifies clean."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.accounts import User
from tests.family.conftest import CHILD_PASSWORD, assert_ledger_clean, balance_of
from tests.support.client import GraphQLClient


async def test_a_family_from_sign_up_to_an_opened_gift(gql: GraphQLClient, session: AsyncSession) -> None:
    # A parent signs up and adds a child
    registered = (await gql.contract("accounts", "Register", {"input": {
        "email": "pat@example.com", "password": "parents know best", "name": "Pat"}})).ok()["register"]
    parent = registered["accessToken"]
    child = (await gql.contract("family", "AddChild", {"input": {
        "name": "Kit", "username": "kit", "password": CHILD_PASSWORD}}, token=parent)).ok()["addChild"]["child"]
    # The parent sets two tasks and hides two gifts
    task_ids = []
    for question, reward in (("2 + 2?", 30), ("3 x 3?", 30)):
        created = (await gql.contract("family", "CreateTask", {"input": {
            "childId": child["id"], "question": question, "pointsReward": reward,
            "answers": [{"text": "4" if "+" in question else "9", "correct": True}, {"text": "5", "correct": False}],
        }}, token=parent)).ok()["createTask"]
        assert created["errors"] == []
        task_ids.append(created["task"]["id"])
    for title, threshold in (("Cinema", 50), ("Bike", 500)):
        sent = (await gql.contract("family", "SendGift", {"input": {
            "childId": child["id"], "title": title, "pointsThreshold": threshold}}, token=parent)).ok()["sendGift"]
        assert sent["gift"]["status"] == "SENT"
    # The child signs in and sees two tasks, no gifts, no points
    kit = (await gql.contract("accounts", "Login", {"input": {"login": "kit", "password": CHILD_PASSWORD}})).ok()
    token = kit["login"]["accessToken"]
    home = (await gql.contract("family", "ChildHome", {"tasksFirst": 10}, token=token)).ok()["me"]["childProfile"]
    assert home["points"] == 0 and home["gifts"]["edges"] == []
    tasks = {edge["node"]["question"]: edge["node"] for edge in home["tasks"]["edges"]}
    assert set(tasks) == {"2 + 2?", "3 x 3?"}
    # The child gets one wrong, then both right: 60 points, the Cinema unlocks on the way
    unlocked = []
    for question, picks in (("2 + 2?", ["5", "4"]), ("3 x 3?", ["9"])):
        answers = {a["text"]: a["id"] for a in tasks[question]["answers"]}
        for pick in picks:
            done = (await gql.contract("family", "SubmitTaskAnswer", {"input": {
                "taskId": tasks[question]["id"], "answerId": answers[pick]}}, token=token)).ok()["submitTaskAnswer"]
            assert done["errors"] == []
            unlocked += [gift["title"] for gift in done["unlockedGifts"]]
    assert unlocked == ["Cinema"] and done["child"]["points"] == 60
    # The child opens the Cinema gift: 50 points go to the parent
    home = (await gql.contract("family", "ChildHome", {}, token=token)).ok()["me"]["childProfile"]
    cinema = home["gifts"]["edges"][0]["node"]
    assert (cinema["title"], cinema["status"]) == ("Cinema", "UNLOCKED")
    opened = (await gql.contract("family", "ActivateGift", {"input": {"giftId": cinema["id"]}},
                                 token=token)).ok()["activateGift"]
    assert opened["gift"]["status"] == "ACTIVATED" and opened["child"]["points"] == 10
    # The parent's dashboard shows it all
    me = (await gql.contract("family", "FamilyDashboard", {"childrenFirst": 10, "tasksFirst": 10},
                             token=parent)).ok()["me"]
    kid = me["children"]["edges"][0]["node"]
    assert kid["points"] == 10 and kid["tasks"]["totalCount"] == 0
    assert sorted((g["node"]["title"], g["node"]["status"]) for g in kid["gifts"]["edges"]) == [
        ("Bike", "SENT"), ("Cinema", "ACTIVATED")]
    assert [r["node"]["correct"] for r in kid["taskResults"]["edges"]] == [True, True, False]
    # And the child's history adds up, and the book verifies clean
    history = (await gql.contract("family", "ChildHome", {}, token=token)).ok()["me"]["childProfile"]
    assert [(p["node"]["amount"], p["node"]["balanceAfter"]) for p in history["pointsHistory"]["edges"]] == [
        (-50, 10), (30, 60), (30, 30)]
    parent_id = await session.scalar(select(User.id).where(User.email == "pat@example.com"))
    assert await balance_of(session, parent_id) == 50
    await assert_ledger_clean(session)
