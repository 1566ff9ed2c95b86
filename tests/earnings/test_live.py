"""earningsUpdated over a real websocket: the owner hears every create, update and delete (the
earning as a query shows it, null after a delete); nobody else hears anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person
from tests.earnings.conftest import add_platform, gid
from tests.support.client import contract_operation
from tests.support.live import committed_person
from tests.support.websocket import GraphQLWebSocket, LiveServer

UPDATED = contract_operation("earnings", "EarningsUpdated")
RECORD = contract_operation("earnings", "RecordEarning")
UPDATE = contract_operation("earnings", "UpdateEarning")
DELETE = contract_operation("earnings", "DeleteEarning")
EARNING = """
query($id: ID!) { node(id: $id) { ... on Earning { id date amount { amount currency } hours platform { id name } } } }
"""


@pytest.fixture
async def server(committed_runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with LiveServer(create_app(runtime=committed_runtime)) as live:
        yield live


async def subscribed(server: LiveServer, person: Person) -> GraphQLWebSocket:
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert (await client.init(person.token))["type"] == "connection_ack"
    await client.subscribe("earnings", UPDATED)
    return client


async def send(server: LiveServer, person: Person, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables},
                                   headers={"authorization": f"Bearer {person.token}"})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_the_owner_hears_every_change_and_nobody_else_does(
    server: LiveServer, committed_runtime: Runtime
) -> None:
    # Given Fran and Otto, both subscribed, and Fran's platform
    fran = await committed_person(committed_runtime, email="fran@example.com", name="Fran")
    otto = await committed_person(committed_runtime, email="otto@example.com", name="Otto")
    async with committed_runtime.database.sessions() as session:
        platform = await add_platform(session, fran.user)
    fran_feed, otto_feed = await subscribed(server, fran), await subscribed(server, otto)
    today = clock.now().date().isoformat()

    # When Fran records an earning
    created = (await send(server, fran, RECORD, {"input": {
        "platformId": gid("Platform", platform.id), "date": today, "amount": "80", "hours": "2"}}))
    earning_id = created["recordEarning"]["earning"]["id"]
    # Then she hears CREATED with the earning exactly as a query shows it
    event = (await fran_feed.next_payload("earnings"))["data"]["earningsUpdated"]
    shown = (await send(server, fran, EARNING, {"id": earning_id}))["node"]
    assert event == {"kind": "CREATED", "earningId": earning_id, "earning": shown}
    assert shown["amount"] == {"amount": "80.00", "currency": "USD"}

    # When she corrects it, then she hears UPDATED with the new amount
    await send(server, fran, UPDATE, {"input": {"id": earning_id, "amount": "90"}})
    event = (await fran_feed.next_payload("earnings"))["data"]["earningsUpdated"]
    assert (event["kind"], event["earningId"], event["earning"]["amount"]["amount"]) == ("UPDATED", earning_id,
                                                                                         "90.00")

    # When a correction is refused, then nothing is heard
    refused = await send(server, fran, UPDATE, {"input": {"id": earning_id, "amount": "-1"}})
    assert refused["updateEarning"]["errors"][0]["code"] == "INVALID"

    # When she deletes it, then she hears DELETED, with no earning
    await send(server, fran, DELETE, {"input": {"id": earning_id}})
    event = (await fran_feed.next_payload("earnings"))["data"]["earningsUpdated"]
    assert event == {"kind": "DELETED", "earningId": earning_id, "earning": None}
    await fran_feed.expect_nothing()

    # And Otto heard none of it
    await otto_feed.expect_nothing()
    await fran_feed.close()
    await otto_feed.close()


async def test_nobody_signed_out_can_subscribe(server: LiveServer) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.send({"type": "connection_init", "payload": {}})
    assert await client.wait_closed() == 4403


async def test_a_child_cannot_subscribe(server: LiveServer, committed_runtime: Runtime) -> None:
    from domain.actor import Role

    kit = await committed_person(committed_runtime, email=None, username="kit", name="Kit", role=Role.CHILD)
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert (await client.init(kit.token))["type"] == "connection_ack"
    await client.subscribe("earnings", UPDATED)
    message = await client.receive()
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"]
    await client.close()
