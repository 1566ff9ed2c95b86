"""The websocket endpoint speaks graphql-transport-ws only, over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import websockets

from graph.app import create_app
from tally.runtime import Runtime
from tests.support.websocket import PROTOCOL, GraphQLWebSocket, LiveServer


@pytest.fixture
async def server(committed_runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with LiveServer(create_app(runtime=committed_runtime)) as live:
        yield live


async def test_connection_init_is_acknowledged_and_pings_answered(server: LiveServer) -> None:
    # Given a client that opened a socket with the graphql-transport-ws subprotocol
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert client.socket.subprotocol == PROTOCOL
    # When it initialises and pings
    ack = await client.init()
    await client.send({"type": "ping"})
    # Then it is acknowledged and ponged
    assert ack["type"] == "connection_ack"
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_the_legacy_graphql_ws_protocol_is_not_offered(server: LiveServer) -> None:
    socket = await websockets.connect(server.ws_url, subprotocols=["graphql-ws"], open_timeout=5)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd.code == 4406
    await socket.close()


async def test_a_malformed_message_closes_the_connection_cleanly(server: LiveServer) -> None:
    client = await GraphQLWebSocket(server.ws_url).connect()
    await client.init()
    await client.send("{not json")
    assert await client.wait_closed() == 4400


async def test_a_page_on_a_foreign_origin_cannot_open_a_socket(server: LiveServer) -> None:
    # Cross-site websocket hijacking: only same-origin pages and TALLY_CORS_ORIGINS may connect.
    with pytest.raises(websockets.InvalidStatus):
        await GraphQLWebSocket(server.ws_url, origin="https://evil.example").connect()


async def test_a_configured_origin_may_open_a_socket(committed_runtime: Runtime) -> None:
    from tally.settings import load_settings

    settings = load_settings(
        env="test", database_url=committed_runtime.settings.database_url,
        cors_origins="https://app.example", secret_key="s" * 40,
    )
    async with LiveServer(create_app(settings=settings, runtime=committed_runtime)) as live:
        client = await GraphQLWebSocket(live.ws_url, origin="https://app.example").connect()
        assert (await client.init())["type"] == "connection_ack"
        await client.close()
