"""Fixtures for the bus, the job queues and the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import SERVERS
from tests.realtime.support import PrivateRedis


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    if not PrivateRedis.available():
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    await server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.thaw()
        server.stop()


@pytest.fixture
def shared_redis_url() -> str:
    """The suite's Redis (its own database index); tests needing it skip without it."""
    if SERVERS.redis_url is None:
        pytest.skip("Redis is unreachable")
    return SERVERS.redis_url
