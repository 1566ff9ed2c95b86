"""Earnings analytics: the summary beside hand-written SQL over asyncpg, and the dashboard's req/s.

    python -m bench earnings [--earnings 100000] [--repeat 30] [--clients 8] [--seconds 10]

One user with `--earnings` earnings (USD, with a tenth in EUR) on 8 platforms over three years,
on a fresh PostgreSQL database. Then:

1. Summary latency over a one-year and a three-year window, median and p95 of `--repeat` runs
   each (the three take turns), for: Tally's `summarize()` on a session (the SQL the API runs, plus the ORM and result
   handling); the same statement written by hand and run with asyncpg (`fetch`), the floor for
   this SQL; and, for scale, the naive hand-written form (four GROUP BYs over the table). The
   statement count per summary is printed too (it is 1 whatever the size).
2. The EarningsDashboard contract query (summary, goals, first page of earnings) through the
   whole ASGI app in-process (httpx ASGITransport, `--clients` concurrent clients for
   `--seconds`), over a 30-day and a one-year window: requests per second and mean latency.

PostgreSQL server: TALLY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432); the
database is created here and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, insert

from db.engine import Database
from db.migrate import upgrade_async
from db.models.accounts import User
from db.models.earnings import Earning, EarningsProfile, Goal, Platform
from db.unit_of_work import transaction
from domain.accounts import sessions
from domain.actor import Actor, Role
from domain.earnings.summary import summarize
from graph.app import create_app
from jobs.queue import InProcessQueue
from tally.clock import clock
from tally.runtime import Runtime
from tally.settings import load_settings
from tests.support.client import contract_operation

# The statement Tally's summary runs (domain.earnings.summary.summary_query), written by hand.
SUMMARY_SQL = """
WITH daily AS (
    SELECT date AS day, platform_id, sum(amount_minor) AS amount, sum(coalesce(hours_centi, 0)) AS hours,
           sum(CASE WHEN hours_centi > 0 THEN amount_minor ELSE 0 END) AS rated, count(*) AS n
    FROM earnings WHERE user_id = $1 AND currency = $2 AND date BETWEEN $3 AND $4
    GROUP BY date, platform_id
)
SELECT 'day' AS level, day, NULL::varchar AS month, NULL::uuid AS platform_id,
       sum(amount), sum(hours), sum(rated), sum(n) FROM daily GROUP BY day
UNION ALL
SELECT 'month', NULL::date, to_char(day, 'YYYY-MM'), NULL::uuid, sum(amount), sum(hours), sum(rated), sum(n)
FROM daily GROUP BY to_char(day, 'YYYY-MM')
UNION ALL
SELECT 'platform', NULL::date, NULL::varchar, platform_id, sum(amount), sum(hours), sum(rated), sum(n)
FROM daily GROUP BY platform_id
UNION ALL
SELECT 'total', NULL::date, NULL::varchar, NULL::uuid, sum(amount), sum(hours), sum(rated), sum(n) FROM daily
"""
WHERE = "WHERE user_id = $1 AND currency = $2 AND date BETWEEN $3 AND $4"
SUMS = ("sum(amount_minor), sum(coalesce(hours_centi, 0)), "
        "sum(CASE WHEN hours_centi > 0 THEN amount_minor ELSE 0 END), count(*)")
NAIVE_SQL = [
    f"SELECT date, {SUMS} FROM earnings {WHERE} GROUP BY date",
    f"SELECT to_char(date, 'YYYY-MM'), {SUMS} FROM earnings {WHERE} GROUP BY 1",
    f"SELECT platform_id, {SUMS} FROM earnings {WHERE} GROUP BY platform_id",
    f"SELECT {SUMS} FROM earnings {WHERE}",
]


async def seed(database: Database, size: int) -> tuple[uuid.UUID, str]:
    """The user, platforms, goals and `size` earnings; returns the user id and an access token."""
    rng = random.Random(7)
    today = clock.now().date()
    async with transaction(database) as session:
        user = User(email="bench@example.com", name="Bench", password_hash="x", role="MEMBER")
        session.add(user)
        await session.flush()
        session.add(EarningsProfile(user_id=user.id, plan="BUSINESS", default_currency="USD", timezone="UTC"))
        platforms = [Platform(user_id=user.id, name=f"Platform {n}", color="#123456") for n in range(8)]
        session.add_all(platforms)
        await session.flush()
        for n in range(5):
            session.add(Goal(user_id=user.id, title=f"Goal {n}", target_minor=1_000_000 * (n + 1), currency="USD",
                             starts_on=today - timedelta(days=30 * n), deadline=today + timedelta(days=90)))
        batch = []
        for n in range(size):
            batch.append({
                "id": uuid.uuid4(), "user_id": user.id, "platform_id": rng.choice(platforms).id,
                "date": today - timedelta(days=rng.randint(0, 3 * 365)), "amount_minor": rng.randint(500, 500_000),
                "currency": "EUR" if n % 10 == 0 else "USD", "hours_centi": rng.choice([None, 0, rng.randint(25, 900)]),
                "notes": None, "created_at": clock.now(), "updated_at": clock.now(),
            })
            if len(batch) == 10_000:
                await session.execute(insert(Earning), batch)
                batch = []
        if batch:
            await session.execute(insert(Earning), batch)
        tokens = await sessions.start_sign_in(session, Actor(ip="127.0.0.1"), user)
    return user.id, tokens.access_token


async def timed_together(runs: list[Callable[[], Awaitable[Any]]], repeat: int) -> list[list[float]]:
    """Each run `repeat` times, taking turns, so drifting load on the machine hits them alike."""
    for run in runs:
        for _ in range(3):  # warm connections, statement caches and the buffer cache
            await run()
    timings: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, times in zip(runs, timings, strict=True):
            started = time.perf_counter()
            await run()
            times.append((time.perf_counter() - started) * 1000)
    return timings


def describe(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):8.1f} {p95:8.1f}"


async def summary_latency(database: Database, pool: asyncpg.Pool, user_id: uuid.UUID, repeat: int) -> None:
    actor = Actor(user_id=user_id, role=Role.MEMBER)
    today = clock.now().date()
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    print(f"\n{'summary (ms)':<44} {'median':>8} {'p95':>8}  ratio to asyncpg")
    for label, days in (("one year", 365), ("three years", 3 * 365 + 1)):
        start = today - timedelta(days=days - 1)
        rows_in_range = await pool.fetchval(
            "SELECT count(*) FROM earnings WHERE user_id = $1 AND currency = 'USD' AND date BETWEEN $2 AND $3",
            user_id, start, today)

        async def tally_summary(start: date = start) -> None:
            async with database.sessions() as session:
                await summarize(session, actor, start, today, "USD")

        async def baseline(start: date = start) -> None:
            async with pool.acquire() as connection:
                await connection.fetch(SUMMARY_SQL, user_id, "USD", start, today)

        async def naive(start: date = start) -> None:
            async with pool.acquire() as connection:
                for sql in NAIVE_SQL:
                    await connection.fetch(sql, user_id, "USD", start, today)

        statements.clear()
        event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        base, ours, slow = await timed_together([baseline, tally_summary, naive], repeat)
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
        per_call = len(statements) / (repeat + 3)
        floor = statistics.median(base)
        print(f"-- {label}: {rows_in_range:,} USD earnings in range")
        print(f"{'  tally summarize()':<44} {describe(ours)}  {statistics.median(ours) / floor:5.2f}"
              f"   ({per_call:g} statement per summary)")
        print(f"{'  hand-written SQL, asyncpg (same statement)':<44} {describe(base)}  {1:5.2f}")
        print(f"{'  hand-written, 4 GROUP BYs, asyncpg':<44} {describe(slow)}  {statistics.median(slow) / floor:5.2f}")


async def drive(http: httpx.AsyncClient, payload: dict[str, Any], headers: dict[str, str], clients: int,
                seconds: float) -> tuple[int, float, list[float]]:
    """`clients` loops posting `payload` until the deadline: (requests done, elapsed, latencies in ms)."""
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await http.post("/graphql", json=payload, headers=headers)
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done, time.perf_counter() - started, latencies


async def dashboard_rate(runtime: Runtime, token: str, clients: int, seconds: float) -> None:
    app = create_app(runtime=runtime)
    document = contract_operation("earnings", "EarningsDashboard")
    today = clock.now().date()
    print(f"\n{'EarningsDashboard, in-process ASGI':<44} {'req/s':>8} {'mean ms':>8}  ({clients} clients, "
          f"{seconds:g}s)")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for label, days in (("30 days", 30), ("one year", 365)):
            variables = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
            payload = {"query": document, "variables": variables}
            headers = {"authorization": f"Bearer {token}"}
            check = (await http.post("/graphql", json=payload, headers=headers)).json()
            assert "errors" not in check, check
            done, elapsed, latencies = await drive(http, payload, headers, clients, seconds)
            summary = check["data"]["me"]["earningsSummary"]
            print(f"{'  window ' + label:<44} {done / elapsed:8.1f} {statistics.mean(latencies):8.1f}"
                  f"  (summary total {summary['total']['amount']} USD)")


async def bench(args: argparse.Namespace) -> int:
    server = os.environ.get("TALLY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    name = f"tally_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{server}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    runtime: Runtime | None = None
    pool: asyncpg.Pool | None = None
    try:
        await upgrade_async(url)
        settings = load_settings(env="test", database_url=url, redis_url=None, secret_key="b" * 48,
                                 log_level="WARNING")
        database = Database.from_url(url, pool_size=max(args.clients, 4), max_overflow=0)
        runtime = Runtime(settings, database=database, jobs=InProcessQueue())
        await runtime.start(start_jobs=False)
        pool = await asyncpg.create_pool(f"{server}/{name}", min_size=2, max_size=4)
        started = time.perf_counter()
        user_id, token = await seed(database, args.earnings)
        # What autovacuum does soon after a bulk insert: statistics, and a visibility map (so the
        # covering index answers without visiting the table).
        await pool.execute("VACUUM (ANALYZE) earnings")
        print(f"earnings bench: {args.earnings:,} earnings of one user on 8 platforms over three years "
              f"(seeded in {time.perf_counter() - started:.1f}s), PostgreSQL {name}")
        await summary_latency(database, pool, user_id, args.repeat)
        await dashboard_rate(runtime, token, args.clients, args.seconds)
        return 0
    finally:
        if pool is not None:
            await pool.close()
        if runtime is not None:
            await runtime.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench earnings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--earnings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per summary variant")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per dashboard window")
    return asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
