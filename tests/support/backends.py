"""Which servers the suite talks to: real PostgreSQL and Redis, or the embedded backends."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
# Redis tests use their own database index and flush it (jobs, rate limits, caches).
TEST_REDIS_DB = 13


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Servers:
    postgres_url: str | None
    redis_url: str | None
    skipped: list[str] = field(default_factory=list)


def discover() -> Servers:
    pg = os.environ.get("TALLY_TEST_DATABASE_URL", DEFAULT_PG)
    redis = os.environ.get("TALLY_TEST_REDIS_URL", DEFAULT_REDIS)
    # A URL naming a database index keeps it (parallel runs take different ones); else ours.
    redis_db_url = redis if urlsplit(redis).path.strip("/") else f"{redis.rstrip('/')}/{TEST_REDIS_DB}"
    servers = Servers(postgres_url=pg, redis_url=redis_db_url)
    if not _port_open(pg, 5432):
        servers.postgres_url = None
        servers.skipped.append(f"PostgreSQL at {urlsplit(pg).netloc} is unreachable: PostgreSQL tests skipped")
    if os.environ.get("TALLY_TEST_SERVERS") == "none":
        # Shows what a machine without the servers sees (and is what CI must never do).
        servers.postgres_url = servers.redis_url = None
        servers.skipped.append("TALLY_TEST_SERVERS=none: PostgreSQL and Redis tests skipped")
        return servers
    if not _port_open(redis, 6379):
        servers.redis_url = None
        servers.skipped.append(f"Redis at {urlsplit(redis).netloc} is unreachable: Redis tests skipped")
    return servers


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def create_postgres_database(server_url: str) -> str:
    """A fresh database for this run; returns its SQLAlchemy URL."""
    name = f"tally_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_admin_dsn(server_url.rstrip("/")) + "/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = server_url.rstrip("/").replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_postgres_database(server_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_admin_dsn(server_url.rstrip("/")) + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def flush_redis(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await asyncio.wait_for(client.flushdb(), 5)
    finally:
        await client.aclose()
