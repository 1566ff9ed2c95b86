"""The websocket endpoint: graphql-transport-ws only, authenticated in connection_init."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import websockets

import graph.server
from graph.app import create_app
from tally.runtime import Runtime
from tests.support.live import committed_person
from tests.support.websocket import PROTOCOL, GraphQLWebSocket, LiveServer

NOTIFICATIONS = "subscription { notificationReceived { id } }"


@pytest.fixture
async def server(committed_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LiveServer]:
    monkeypatch.setattr(graph.server, "CONNECTION_INIT_TIMEOUT", timedelta(seconds=0.5))
    async with LiveServer(create_app(runtime=committed_runtime)) as live:
        yield live


@pytest.fixture
async def token(committed_runtime: Runtime) -> str:
    return (await committed_person(committed_runtime)).token


async def test_connection_init_is_acknowledged_and_pings_answered(server: LiveServer, token: str) -> None:
    # Given a client that opened a socket with the graphql-transport-ws subprotocol
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert client.socket.subprotocol == PROTOCOL
    # When it initialises with its token and pings
    ack = await client.init(token)
    await client.send({"type": "ping"})
    # Then it is acknowledged and ponged
    assert ack["type"] == "connection_ack"
    assert (await client.receive())["type"] == "pong"
    await client.close()


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer not-a-token"}, {"authorization": 42}])
async def test_no_or_a_bad_token_closes_with_4403(server: LiveServer, payload: dict) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.send({"type": "connection_init", "payload": payload})
    assert await client.wait_closed() == 4403


async def test_no_init_before_the_timeout_closes_with_4408(server: LiveServer) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert await client.wait_closed() == 4408


async def test_subscribing_before_the_ack_closes_with_4401(server: LiveServer) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.subscribe("1", NOTIFICATIONS)
    assert await client.wait_closed() == 4401


async def test_at_most_20_subscriptions_per_connection(server: LiveServer, token: str) -> None:
    # Given a connection with 20 live subscriptions
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.init(token)
    for n in range(20):
        await client.subscribe(str(n), NOTIFICATIONS)
    # When it asks for 80 more
    for n in range(20, 100):
        await client.subscribe(str(n), NOTIFICATIONS)
    # Then each is refused with an error message, and the connection stays open and answers
    refused = [await client.receive() for _ in range(80)]
    assert {m["type"] for m in refused} == {"error"}
    assert refused[0]["payload"][0]["message"] == "Subscription limit reached"
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_an_unknown_operation_id_and_a_malformed_message_close_cleanly(server: LiveServer, token: str) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.init(token)
    await client.send({"type": "complete", "id": "never-started"})
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.send("{not json")
    assert await client.wait_closed() == 4400


async def test_the_legacy_graphql_ws_protocol_is_not_offered(server: LiveServer) -> None:
    socket = await websockets.connect(server.ws_url, subprotocols=["graphql-ws"], open_timeout=5)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd.code == 4406
    await socket.close()


async def test_a_page_on_a_foreign_origin_cannot_open_a_socket(server: LiveServer) -> None:
    # Cross-site websocket hijacking: only same-origin pages and TALLY_CORS_ORIGINS may connect.
    with pytest.raises(websockets.InvalidStatus):
        await GraphQLWebSocket(server.ws_url, origin="https://evil.example").connect()


async def test_a_configured_origin_may_open_a_socket(committed_runtime: Runtime, token: str) -> None:
    from tally.settings import load_settings

    settings = load_settings(
        env="test", database_url=committed_runtime.settings.database_url,
        cors_origins="https://app.example", secret_key=committed_runtime.settings.secret_key,
    )
    async with LiveServer(create_app(settings=settings, runtime=committed_runtime)) as live:
        client = await GraphQLWebSocket(live.ws_url, origin="https://app.example").connect()
        assert (await client.init(token))["type"] == "connection_ack"
        await client.close()
