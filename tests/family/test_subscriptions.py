"""giftUnlocked over a real websocket: the child and the parent hear it (the parent may filter by
child); nobody else does, and a gift that is still hidden is never announced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry import relay

from domain.actor import Role
from graph.app import create_app
from tally.runtime import Runtime
from tests.accounts.conftest import Person, make_person
from tests.family.conftest import Family, answer_of, gid, make_child, make_family, make_gift, make_task
from tests.support.client import contract_operation
from tests.support.websocket import GraphQLWebSocket, LiveServer

UNLOCKED = contract_operation("family", "GiftUnlocked")
SUBMIT = contract_operation("family", "SubmitTaskAnswer")
SEND = contract_operation("family", "SendGift")


@pytest.fixture
async def server(committed_runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with LiveServer(create_app(runtime=committed_runtime)) as live:
        yield live


async def listening(server: LiveServer, person: Person, **subscriptions: dict[str, Any]) -> GraphQLWebSocket:
    socket = await GraphQLWebSocket(server.ws_url).connect()
    assert (await socket.init(person.token))["type"] == "connection_ack"
    for operation_id, variables in subscriptions.items():
        await socket.subscribe(operation_id, UNLOCKED, variables)
    return socket


async def until_listening(runtime: Runtime, wanted: dict[Any, int], timeout: float = 5.0) -> None:
    """Wait until the server has subscribed each user's channel that many times (not a timing assertion:
    a subscribe message is handled asynchronously, and an event published before it would be missed)."""
    async def ready() -> None:
        # The bus offers no event for "subscribed"; poll it.
        while any(runtime.bus.subscriber_count(f"user:{user}") < count for user, count in wanted.items()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(ready(), timeout)


async def next_messages(socket: GraphQLWebSocket, count: int) -> dict[str, Any]:
    """The next `count` results, by operation id, in whatever order they come."""
    found: dict[str, Any] = {}
    while len(found) < count:
        message = await socket.receive()
        if message.get("type") == "next":
            assert message["id"] not in found, message
            found[message["id"]] = message["payload"]["data"]["giftUnlocked"]
    return found


async def post(server: LiveServer, person: Person, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"authorization": f"Bearer {person.token}"})
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.mark.committed
async def test_an_unlocked_gift_is_announced_to_the_child_and_the_parent_only(
    server: LiveServer, committed_runtime: Runtime
) -> None:
    # Given the Smiths (Kit and Lou) with a 10-point gift for Kit, and the Joneses, all listening
    async with committed_runtime.database.sessions() as session:
        smiths: Family = await make_family(session, "pat@example.com", "kit")
        lou = await make_child(session, smiths.parent, "lou")
        joneses = await make_family(session, "jo@example.com", "max")
        admin = await make_person(session, email="admin@example.com", name="Ann Admin", role=Role.ADMIN)
        gift = await make_gift(session, smiths, 10, "Ice cream")
        task = await make_task(session, smiths, reward=10)
        right = await answer_of(session, task, True)
    kit_id, lou_id = gid("Child", smiths.child.user.id), gid("Child", lou.user.id)
    kit_socket = await listening(server, smiths.child, mine={})
    parent_socket = await listening(server, smiths.parent, all={}, kit={"childId": kit_id}, lou={"childId": lou_id})
    lou_socket = await listening(server, lou, mine={})
    others = [await listening(server, joneses.parent, all={}, kit={"childId": kit_id}),
              await listening(server, joneses.child, mine={}),
              await listening(server, admin, all={}, kit={"childId": kit_id})]
    # (nobody signed out gets as far as subscribing)
    anonymous = await GraphQLWebSocket(server.ws_url).connect()
    await anonymous.send({"type": "connection_init", "payload": {}})
    assert await anonymous.wait_closed() == 4403
    try:
        # (plus one subscription per user: the process's session watcher)
        await until_listening(committed_runtime, {smiths.child.user.id: 2, smiths.parent.user.id: 4})
        # When Kit's right answer reaches the threshold
        variables = {"input": {"taskId": gid("Task", task.id), "answerId": gid("TaskAnswer", right.id)}}
        done = await post(server, smiths.child, SUBMIT, variables)
        assert done["submitTaskAnswer"]["errors"] == []
        # Then Kit hears it, with the points as they are now
        expected = {"id": gid("Gift", gift.id), "title": "Ice cream", "message": "Well done!", "status": "UNLOCKED",
                    "child": {"id": kit_id, "name": "Kit", "points": 10}}
        heard = (await kit_socket.next_payload("mine"))["data"]["giftUnlocked"]
        assert heard | {"unlockedAt": None} == expected | {"unlockedAt": None} and heard["unlockedAt"]
        # And the parent hears it once on the unfiltered and the Kit subscriptions, not on Lou's
        by_operation = await next_messages(parent_socket, 2)
        assert by_operation == {"all": heard, "kit": heard}
        await parent_socket.expect_nothing()
        # And nobody else hears anything
        await lou_socket.expect_nothing(0.2)
        for socket in others:
            await socket.expect_nothing(0.2)
    finally:
        for socket in (kit_socket, parent_socket, lou_socket, *others):
            await socket.close()


@pytest.mark.committed
async def test_a_gift_sent_is_not_announced_to_the_child(server: LiveServer, committed_runtime: Runtime) -> None:
    # Given Kit listening
    async with committed_runtime.database.sessions() as session:
        smiths = await make_family(session, "pat@example.com", "kit")
    socket = await listening(server, smiths.child, mine={})
    parent_socket = await listening(server, smiths.parent, all={})
    feed = await GraphQLWebSocket(server.ws_url).connect()
    assert (await feed.init(smiths.child.token))["type"] == "connection_ack"
    await feed.subscribe("feed", contract_operation("notifications", "NotificationReceived"))
    await until_listening(committed_runtime, {smiths.child.user.id: 3, smiths.parent.user.id: 2})
    try:
        # When the parent hides a gift Kit cannot afford yet
        variables = {"input": {"childId": gid("Child", smiths.child.user.id), "title": "Secret", "pointsThreshold": 99}}
        sent = await post(server, smiths.parent, SEND, variables)
        assert sent["sendGift"]["gift"]["status"] == "SENT"
        # Then Kit hears nothing of it, on either subscription
        await socket.expect_nothing()
        await feed.expect_nothing(0.2)
        # And even an event naming it (as a bug elsewhere might publish) is not shown to Kit: the
        # payload is re-read with Kit's visibility, and a SENT gift does not exist for Kit
        gift_id = relay.from_base64(sent["sendGift"]["gift"]["id"])[1]
        event = {"kind": "gift_unlocked", "giftId": gift_id, "childId": str(smiths.child.user.id)}
        await committed_runtime.bus.publish(f"user:{smiths.child.user.id}", event)
        await socket.expect_nothing()
        # (while the parent, who may see it, would be shown the same event)
        await committed_runtime.bus.publish(f"user:{smiths.parent.user.id}", event)
        assert (await parent_socket.next_payload("all"))["data"]["giftUnlocked"]["status"] == "SENT"
    finally:
        await parent_socket.close()
        await socket.close()
        await feed.close()
