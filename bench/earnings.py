"""Earnings: the summary beside hand-written SQL over asyncpg, and the served EarningsDashboard.

    python -m bench earnings [--earnings 100000] [--repeat 30] [--window-days 365]
                             [--seconds 5] [--rounds 2] [--warm 2] [--connections 8] [--redis URL]

One user with `--earnings` earnings (USD, with a tenth in EUR) on 8 platforms over three years,
and five goals, on a fresh PostgreSQL database. Then:

1. Summary latency over a one-year and a three-year window, median and p95 of `--repeat` runs
   each (the three take turns), in this process: Tally's `summarize()` on a session (the SQL
   the API runs, plus the ORM and result handling); the same statement written by hand and run
   with asyncpg (`fetch`), the floor for this SQL; and, for scale, the naive hand-written form
   (four GROUP BYs over the table). The statement count per summary is printed too (it is 1
   whatever the size).
2. Scenario 2 of issue 8: the EarningsDashboard contract query (summary, goals, first page of
   earnings) over the last `--window-days` days, served by `tally serve` beside a hand-written
   Starlette + asyncpg + orjson floor (bench/_earnings_baseline.py) that must answer the same
   JSON, loaded in turn as bench/_served.py describes (no peer here: issue 8 runs PostGraphile
   on scenarios 1 and 3). Aim: >= 0.5x the floor's req/s.

PostgreSQL server: TALLY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432); the
database is created here and dropped afterwards. Redis (the served app's sign-in checks): --redis,
else TALLY_BENCH_REDIS_URL, else redis://127.0.0.1:6379/9 (flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy import event, insert

from bench._earnings_baseline import SUMMARY_SQL
from bench._served import Target, add_load_arguments, run_served, same_answer
from bench._support import Report, Server, asyncpg_url, bench_database, flush_redis, table, tally_env
from db.engine import Database
from db.models.accounts import SignIn, User
from db.models.earnings import Earning, EarningsProfile, Goal, Platform
from db.unit_of_work import transaction
from domain.actor import Actor, Role
from domain.earnings.summary import summarize
from tally.clock import clock
from tests.support.client import contract_operation

SUITE = ["--seconds", "8", "--rounds", "2"]
QUICK = ["--earnings", "20000", "--seconds", "3", "--rounds", "1", "--warm", "1", "--repeat", "10"]
WHERE = "WHERE user_id = $1 AND currency = $2 AND date BETWEEN $3 AND $4"
SUMS = ("sum(amount_minor), sum(coalesce(hours_centi, 0)), "
        "sum(CASE WHEN hours_centi > 0 THEN amount_minor ELSE 0 END), count(*)")
NAIVE_SQL = [
    f"SELECT date, {SUMS} FROM earnings {WHERE} GROUP BY date",
    f"SELECT to_char(date, 'YYYY-MM'), {SUMS} FROM earnings {WHERE} GROUP BY 1",
    f"SELECT platform_id, {SUMS} FROM earnings {WHERE} GROUP BY platform_id",
    f"SELECT {SUMS} FROM earnings {WHERE}",
]


async def seed(database: Database, size: int, notes_every: int = 0) -> tuple[uuid.UUID, uuid.UUID]:
    """The user, platforms, goals and `size` earnings (with notes on every `notes_every`th one);
    returns the user id and a sign-in's id (its access token is the caller's, with its secret)."""
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
                "notes": f"Invoice {n}: design work, revisions" if notes_every and n % notes_every == 0 else None,
                "created_at": clock.now(), "updated_at": clock.now(),
            })
            if len(batch) == 10_000:
                await session.execute(insert(Earning), batch)
                batch = []
        if batch:
            await session.execute(insert(Earning), batch)
        sign_in = SignIn(user_id=user.id, created_at=clock.now(), user_agent="bench")
        session.add(sign_in)
        await session.flush()
    return user.id, sign_in.id


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


async def dashboard(dsn: str, user_id: uuid.UUID, sign_in_id: uuid.UUID, args: argparse.Namespace) -> Report:
    """Scenario 2: EarningsDashboard served by Tally and by the floor, loaded in turn."""
    from domain.accounts.tokens import issue_access_token

    secret = secrets.token_urlsafe(48)
    token = issue_access_token(secret, user_id, "MEMBER", sign_in_id).token
    today = clock.now().date()
    variables = {"from": (today - timedelta(days=args.window_days - 1)).isoformat(), "to": today.isoformat()}
    body = orjson.dumps({"query": contract_operation("earnings", "EarningsDashboard"), "variables": variables})
    auth = {"authorization": f"Bearer {token}"}
    await flush_redis(args.redis)
    servers = [Server.tally(tally_env(dsn, args.redis, secret)),
               Server.floor("bench._earnings_baseline:dashboard_app",
                            {"BENCH_EARNINGS_DSN": dsn, "BENCH_EARNINGS_SECRET": secret})]
    try:
        await servers[0].ready("/health/live")
        await servers[1].ready("/stats")
        tally, floor = Target(servers[0], body, auth), Target(servers[1], body, auth)
        print(f"\nEarningsDashboard served, window {variables['from']} .. {variables['to']}", flush=True)
        same, answer = await same_answer(tally, floor)
        if not same:
            return Report(1)
        summary = answer["data"]["me"]["earningsSummary"]
        print(f"  summary total {summary['total']['amount']} {summary['currency']}, {len(summary['byDay'])} days, "
              f"{answer['data']['me']['earnings']['totalCount']:,} earnings in the window", flush=True)
        row, failed = await run_served(f"earnings dashboard, {args.window_days}-day window", tally, floor, None, args)
        row.notes.append(f"{args.earnings:,} earnings over 3 years on 8 platforms; no peer (issue 8: scenarios 1, 3)")
        print(f"EarningsDashboard: Tally/floor {row.tally / row.floor:.2f} (aim >= 0.5)")
        return Report(1 if failed else 0, [row])
    finally:
        for server in servers:
            server.stop()
        await flush_redis(args.redis)


async def bench(args: argparse.Namespace) -> Report:
    async with bench_database("earnings") as dsn:
        url = asyncpg_url(dsn)
        database = Database.from_url(url, pool_size=4, max_overflow=0)
        pool: asyncpg.Pool | None = None
        try:
            pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
            started = time.perf_counter()
            user_id, sign_in_id = await seed(database, args.earnings)
            # What autovacuum does soon after a bulk insert: statistics, and a visibility map (so the
            # covering index answers without visiting the table).
            await pool.execute("VACUUM (ANALYZE) earnings")
            print(f"earnings bench: {args.earnings:,} earnings of one user on 8 platforms over three years "
                  f"(seeded in {time.perf_counter() - started:.1f}s), PostgreSQL {dsn.rsplit('/', 1)[-1]}")
            await summary_latency(database, pool, user_id, args.repeat)
        finally:
            if pool is not None:
                await pool.close()
            await database.dispose()
        return await dashboard(dsn, user_id, sign_in_id, args)


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench earnings", description=__doc__.split("\n\n")[0])
    options.add_argument("--earnings", type=int, default=100_000)
    options.add_argument("--repeat", type=int, default=30, help="timed runs per summary variant")
    options.add_argument("--window-days", type=int, default=365, help="the dashboard's window, ending today")
    add_load_arguments(options)
    options.add_argument("--redis", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    return options


def measure(argv: list[str]) -> Report:
    return asyncio.run(bench(parser().parse_args(argv)))


def main(argv: list[str]) -> int:
    report = measure(argv)
    print("\n" + table(report.rows))
    return report.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
