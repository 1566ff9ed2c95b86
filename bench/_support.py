"""Helpers the benchmarks share: servers in their own processes, /proc readings, a throw-away
PostgreSQL database, and the suite's summary rows and table (the load generator: bench/_load.py)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
PG_SERVER = os.environ.get("TALLY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")


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


@contextlib.asynccontextmanager
async def bench_database(prefix: str) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (its plain postgresql:// DSN), dropped afterwards."""
    from db.migrate import upgrade_async

    name = f"tally_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    await admin_sql(PG_SERVER, f'CREATE DATABASE "{name}"')
    try:
        dsn = f"{PG_SERVER}/{name}"
        await upgrade_async(asyncpg_url(dsn))
        yield dsn
    finally:
        await admin_sql(PG_SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def asyncpg_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def tally_env(dsn: str, redis: str, secret: str, **extra: str) -> dict[str, str]:
    """`tally serve`'s environment: production settings, one worker, quiet logs."""
    return clean_env() | {
        "TALLY_ENV": "production", "TALLY_DATABASE_URL": asyncpg_url(dsn), "TALLY_REDIS_URL": redis,
        "TALLY_SECRET_KEY": secret, "TALLY_LOG_LEVEL": "WARNING", "TALLY_WEB_CONCURRENCY": "1", **extra,
    }


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}


# -- /proc readings -------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (node spawns none for PostGraphile; uvicorn none with 1 worker)."""
    total = cpu_seconds(pid)
    with contextlib.suppress(OSError):
        for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
            total += tree_cpu_seconds(int(child))
    return total


# -- servers ----------------------------------------------------------------------------------------


class Server:
    """One HTTP server in its own process, logging to a temporary file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, path: str = "/graphql",
                 cwd: str | None = None) -> None:
        self.name, self.port, self.path = name, port, path
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"bench-{name}-", suffix=".log")
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd)

    @classmethod
    def tally(cls, env: dict[str, str]) -> Server:
        import sys

        port = free_port()
        return cls("tally", [sys.executable, "-m", "tally.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                   env, port)

    @classmethod
    def floor(cls, factory: str, env: dict[str, str]) -> Server:
        """A hand-written Starlette app, served the way `tally serve` is (uvicorn, uvloop, httptools)."""
        import sys

        port = free_port()
        return cls("floor", [
            sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ], clean_env() | env, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def ready(self, probe: str, timeout: float = 60) -> None:
        """Wait until GET `probe` answers below 500 (any answer at all when `probe` is POST-only)."""
        import httpx

        deadline = time.perf_counter() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{self.port}{probe}")).status_code < 500:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


async def post_json(url: str, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
    """One POST; the raw body and its parsed JSON."""
    import httpx
    import orjson

    async with httpx.AsyncClient(timeout=120) as http:
        response = await http.post(url, content=body, headers={"content-type": "application/json", **headers})
    return response.content, orjson.loads(response.content)


async def counter_value(port: int, name: str) -> float:
    """A Prometheus counter's value from a server's /metrics."""
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    if found is None:
        raise LookupError(f"{name} is not on /metrics")
    return float(found.group(1))


async def floor_statements(port: int) -> float:
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        return float((await http.get(f"http://127.0.0.1:{port}/stats")).json()["statements"])


async def statements_per_request(read: Any, url: str, body: bytes, headers: dict[str, str], requests: int) -> float:
    """SQL statements a request costs: the server's own count before and after `requests` of them."""
    before = await read()
    for _ in range(requests):
        await post_json(url, body, headers)
    return (await read() - before) / requests


def leaves(value: Any) -> int:
    """Scalar leaves of a JSON value (what a client reads; null counts)."""
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value)
    return 1


# -- figures ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else math.nan


# -- the suite's table ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of `python -m bench`'s closing table; None prints as a dash."""

    scenario: str
    tally: float | None = None  # req/s, or the unit the scenario names (transfers/s, deliveries/s)
    p50_ms: float | None = None
    p99_ms: float | None = None
    floor: float | None = None
    peer: float | None = None
    statements: str | None = None  # per request: "Tally (floor)"
    rss_start_mib: float | None = None
    rss_end_mib: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    status: int
    rows: list[Row] = field(default_factory=list)


def _figure(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "—"
    return f"{ours / theirs:.2f}"


def table(rows: list[Row]) -> str:
    head = ["scenario", "Tally req/s", "p50 ms", "p99 ms", "floor req/s", "Tally/floor", "peer req/s", "Tally/peer",
            "SQL/req (floor)", "Tally RSS MiB start→end"]
    lines = [head]
    for row in rows:
        rss = "—"
        if row.rss_start_mib is not None and row.rss_end_mib is not None:
            rss = f"{row.rss_start_mib:.0f}→{row.rss_end_mib:.0f} ({row.rss_end_mib / row.rss_start_mib:.2f}x)"
        lines.append([row.scenario, _figure(row.tally), _figure(row.p50_ms), _figure(row.p99_ms), _figure(row.floor),
                      _ratio(row.tally, row.floor), _figure(row.peer), _ratio(row.tally, row.peer),
                      row.statements or "—", rss])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        out.append(" | ".join(cells))
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    notes = [f"  {row.scenario}: {note}" for row in rows for note in row.notes]
    return "\n".join(out + (["", *notes] if notes else []))
