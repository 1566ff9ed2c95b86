"""The live feed over a real websocket: the recipient only, once; sessions end with their sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from db.unit_of_work import run_effects
from domain.accounts import tokens
from domain.notifications.service import notify
from graph.app import create_app
from jobs.queue import InProcessQueue
from tally.bus import EventBus
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import PASSWORD, Person
from tests.support.client import contract_operation
from tests.support.live import committed_person
from tests.support.statements import count_statements
from tests.support.websocket import GraphQLWebSocket, LiveServer

RECEIVED = contract_operation("notifications", "NotificationReceived")
LIST = contract_operation("notifications", "Notifications")


@pytest.fixture
async def server(committed_runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with LiveServer(create_app(runtime=committed_runtime)) as live:
        yield live


async def eventually(check, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def subscribed(server: LiveServer, person: Person) -> GraphQLWebSocket:
    """A connection subscribed to the feed, returned once the server is listening for it."""
    bus = server.server.config.app.state.runtime.bus
    channel = f"user:{person.user.id}"
    # The process's session watcher listens on the user's channel too, once per user.
    wanted = bus.subscriber_count(channel) + (1 if bus.subscriber_count(channel) else 2)
    client = await GraphQLWebSocket(server.ws_url).connect()
    assert (await client.init(person.token))["type"] == "connection_ack"
    await client.subscribe("feed", RECEIVED)
    await eventually(lambda: bus.subscriber_count(channel) >= wanted)
    return client


async def notify_committed(runtime: Runtime, person: Person, title: str) -> None:
    async with runtime.database.sessions() as session:
        await notify(session, person.user.id, type="test.event", title=title, message="hello")
        # What the unit of work does: commit, then the effects go out.
        effects = session.info.pop("tally.after_commit", [])
        await session.commit()
    await run_effects(effects)


async def test_the_recipient_hears_each_notification_once_as_a_query_shows_it(
    server: LiveServer, committed_runtime: Runtime
) -> None:
    # Given Ada and Bob, both subscribed
    ada = await committed_person(committed_runtime)
    bob = await committed_person(committed_runtime, email="bob@example.com", name="Bob")
    ada_feed, bob_feed = await subscribed(server, ada), await subscribed(server, bob)
    # When Ada is notified
    await notify_committed(committed_runtime, ada, "for ada")
    # Then Ada hears it once, with exactly the fields the list query shows
    payload = (await ada_feed.next_payload("feed"))["data"]["notificationReceived"]
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        listed = (await http.post(
            "/graphql", json={"query": LIST, "variables": {"first": 1}},
            headers={"authorization": f"Bearer {ada.token}"},
        )).json()["data"]["me"]["notifications"]["edges"][0]["node"]
    assert payload == listed and payload["title"] == "for ada"
    await ada_feed.expect_nothing()
    # And Bob hears nothing
    await bob_feed.expect_nothing()
    await ada_feed.close()
    await bob_feed.close()


async def test_a_users_many_connections_share_one_load_per_event(
    server: LiveServer, committed_runtime: Runtime, backend
) -> None:
    # Given Ada on three devices
    ada = await committed_person(committed_runtime)
    feeds = [await subscribed(server, ada) for _ in range(3)]
    # When she is notified
    with count_statements(backend.engine) as log:
        await notify_committed(committed_runtime, ada, "once")
        payloads = [(await feed.next_payload("feed"))["data"]["notificationReceived"] for feed in feeds]
    # Then every device hears it, and the notification was read back from the database once
    assert {p["title"] for p in payloads} == {"once"} and len(payloads) == 3
    reads = [s for s in log.selects() if "FROM notifications" in s]
    assert len(reads) == 1
    for feed in feeds:
        await feed.close()


async def test_closed_connections_are_no_longer_watched(server: LiveServer, committed_runtime: Runtime) -> None:
    # Given two people with three connections between them
    ada = await committed_person(committed_runtime)
    bob = await committed_person(committed_runtime, email="bob@example.com", name="Bob")
    feeds = [await subscribed(server, ada), await subscribed(server, ada), await subscribed(server, bob)]
    watcher = server.server.config.app.state.graphql.session_watcher
    assert watcher.watched == 3
    # When they all hang up
    for feed in feeds:
        await feed.close()
    # Then nothing of theirs is kept: no entries, no per-user listeners
    await eventually(lambda: watcher.watched == 0 and not watcher._listeners)


async def test_logging_out_ends_the_live_session(server: LiveServer, committed_runtime: Runtime) -> None:
    # Given Ada subscribed with the sign-in of her refresh token
    ada = await committed_person(committed_runtime)
    feed = await subscribed(server, ada)
    # When she logs out that sign-in (from another tab)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        await http.post("/graphql", json={
            "query": "mutation($r: String!) { logout(input: {refreshToken: $r}) { errors { code } } }",
            "variables": {"r": ada.tokens.refresh_token},
        })
    # Then the socket is closed at once
    assert await feed.wait_closed() == 4403


async def test_a_locked_account_loses_its_live_session(server: LiveServer, committed_runtime: Runtime) -> None:
    ada = await committed_person(committed_runtime)
    feed = await subscribed(server, ada)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        for _ in range(5):
            await http.post("/graphql", json={
                "query": "mutation($i: LoginInput!) { login(input: $i) { errors { code } } }",
                "variables": {"i": {"login": "ada@example.com", "password": PASSWORD + "x"}},
            })
    assert await feed.wait_closed() == 4403


async def test_an_expired_token_ends_the_live_session(server: LiveServer, committed_runtime: Runtime) -> None:
    ada = await committed_person(committed_runtime)
    feed = await subscribed(server, ada)
    clock.advance(tokens.ACCESS_TOKEN_LIFETIME + timedelta(seconds=1))
    assert await feed.wait_closed(timeout=5) == 4403


@pytest.mark.redis
async def test_a_subscriber_on_one_api_process_hears_a_mutation_on_another(
    backend, committed_runtime: Runtime
) -> None:
    # Given two api processes sharing PostgreSQL and Redis (each its own runtime and bus)
    other_bus = EventBus(backend.settings.redis_url, namespace=backend.bus.namespace)
    await other_bus.connect()
    other = Runtime(backend.settings, database=committed_runtime.database, jobs=InProcessQueue(), bus=other_bus)
    await other.jobs.start(other.job_context())
    try:
        async with LiveServer(create_app(runtime=committed_runtime)) as first, \
                LiveServer(create_app(runtime=other)) as second:
            # And Ada listening on the second
            ada = await committed_person(committed_runtime)
            feed = await subscribed(second, ada)
            # When she signs in from a new device through the first
            async with httpx.AsyncClient(base_url=first.http_url) as http:
                await http.post("/graphql", headers={"user-agent": "A new phone"}, json={
                    "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                    "variables": {"i": {"login": "ada@example.com", "password": PASSWORD}},
                })
            # Then the second process tells her
            payload = (await feed.next_payload("feed"))["data"]["notificationReceived"]
            assert payload["type"] == "security.new_sign_in"
            await feed.close()
    finally:
        await other.jobs.stop()
        await other_bus.disconnect()
