"""A real websocket client speaking graphql-transport-ws, and a live uvicorn server to talk to."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
import websockets

PROTOCOL = "graphql-transport-ws"


class LiveServer:
    """Uvicorn serving an app on 127.0.0.1 and a free port, inside the test's event loop."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", ws="websockets-sansio",
            ws_per_message_deflate=False,
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    async def __aenter__(self) -> LiveServer:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class GraphQLWebSocket:
    """One graphql-transport-ws connection: init, subscribe, read messages, close."""

    def __init__(self, url: str, origin: str | None = None) -> None:
        self.url = url
        self.origin = origin
        self.socket: Any = None

    async def connect(self) -> GraphQLWebSocket:
        self.socket = await websockets.connect(
            self.url, subprotocols=[PROTOCOL], origin=self.origin, compression=None, open_timeout=5
        )
        return self

    async def init(self, token: str | None = None, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        init_payload = payload if payload is not None else ({"authorization": f"Bearer {token}"} if token else {})
        await self.send({"type": "connection_init", "payload": init_payload})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        )

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.socket.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.socket.recv(), timeout)
        return json.loads(raw)

    async def next_payload(self, operation_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next `next` message of one operation (pings are answered and skipped)."""
        while True:
            message = await self.receive(timeout)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            if message.get("id") == operation_id and message["type"] == "next":
                return message["payload"]
            if message.get("id") == operation_id and message["type"] in ("error", "complete"):
                raise AssertionError(f"subscription ended: {message}")

    async def expect_nothing(self, timeout: float = 0.5) -> None:
        try:
            message = await self.receive(timeout)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close; returns the close code."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), timeout)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
