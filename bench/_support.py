"""Helpers the benchmarks share: a free loopback port, admin SQL, flushing the bench's Redis."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def admin_sql(server: str, statement: str) -> None:
    """Run one statement on the server's `postgres` database (CREATE/DROP DATABASE)."""
    import asyncpg

    connection = await asyncpg.connect(f"{server}/postgres", timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
