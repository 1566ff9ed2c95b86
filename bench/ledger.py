"""Ledger throughput: Tally's post() beside a hand-written asyncpg baseline, on a fresh database.

    python -m bench ledger [--clients 32] [--transfers 3000] [--seconds 20] [--accounts 1000] [--rounds 2]

Two workloads, each run by every implementation in the same process against the same tables:
"spread" moves 1 between random pairs of many accounts; "hot account" moves 1 from a random
account into one hot account, so every transfer queues on that row's lock. The baseline does
the same writes the way a careful hand-written service would: one UPDATE … RETURNING per
account (with the overdraft check in SQL), the entry INSERT and the postings INSERT, in one
transaction. Tally runs through a unit of work (session, commit) with the app's engine, whose
pool pings each connection on checkout, and again without that ping, to show post()'s own cost.
After the runs, verify must find zero violations (exit 1 otherwise). BENCH_DEBUG=1 prints each
run with the client's CPU per transfer. The summary rows give Tally's transfer latency (p50/p99)
and its SQL statements per transfer (the engine's count, tally_sql_statements_total; the
baseline sends 4 plus BEGIN/COMMIT, which neither count includes). PostgreSQL server: TALLY_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432); the database is created here and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from bench._support import Report, Row, percentile, table
from db.engine import SQL_STATEMENTS, Database
from db.migrate import upgrade_async
from db.unit_of_work import transaction
from domain import ledger
from tally.clock import clock

ASSET = "USD"
OPENING_BALANCE = 10_000_000

UPDATE_ACCOUNT = """
    UPDATE ledger_accounts SET balance = balance + $2, version = version + 1
    WHERE id = $1 AND (allow_negative OR balance + $2 >= 0)
    RETURNING balance, version
"""
INSERT_ENTRY = """
    INSERT INTO ledger_entries (id, idempotency_key, fingerprint, reason, created_at)
    VALUES ($1, $2, $3, $4, $5)
"""
INSERT_POSTING = """
    INSERT INTO ledger_postings (account_id, version, entry_id, amount, asset, balance_after, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
"""

SUITE = ["--transfers", "1500", "--seconds", "8", "--rounds", "1"]
QUICK = ["--transfers", "400", "--seconds", "3", "--rounds", "1", "--accounts", "200"]
BASELINE_STATEMENTS = 4  # two UPDATE ... RETURNING, the entry INSERT, the postings executemany

TALLY = "tally post()"
UNPINGED = "tally post(), no pool pre-ping"
BASELINE = "asyncpg baseline"

Transfer = Callable[[uuid.UUID, uuid.UUID, str], Awaitable[None]]


@dataclass
class Result:
    workload: str
    implementation: str
    transfers: int
    seconds: float
    latencies: list[float]
    statements: int

    @property
    def rate(self) -> float:
        return self.transfers / self.seconds


def tally_transfer(database: Database) -> Transfer:
    async def run(source: uuid.UUID, destination: uuid.UUID, key: str) -> None:
        async with transaction(database) as session:
            await ledger.transfer(session, source, destination, 1, ASSET, key, "bench.transfer")

    return run


def baseline_transfer(pool: asyncpg.Pool) -> Transfer:
    async def run(source: uuid.UUID, destination: uuid.UUID, key: str) -> None:
        entry_id, now = uuid.uuid4(), clock.now()
        moves = sorted([(source, -1), (destination, 1)])  # the same lock order as Tally's
        fingerprint = hashlib.sha256(";".join(f"{a.hex}:{ASSET}:{d}" for a, d in moves).encode()).hexdigest()
        async with pool.acquire() as conn, conn.transaction():
            postings = []
            for account_id, delta in moves:
                row = await conn.fetchrow(UPDATE_ACCOUNT, account_id, delta)
                if row is None:
                    raise RuntimeError("insufficient funds")  # rolls the transaction back
                postings.append((account_id, row["version"], entry_id, delta, ASSET, row["balance"], now))
            await conn.execute(INSERT_ENTRY, entry_id, key, fingerprint, "bench.transfer", now)
            await conn.executemany(INSERT_POSTING, postings)

    return run


async def drive(clients: int, total: int, seconds: float, pick: Callable[[], tuple[uuid.UUID, uuid.UUID]],
                transfer: Transfer, label: str) -> tuple[int, float, list[float], int]:
    """`clients` loops sharing one budget of transfers (and a deadline); returns (done, elapsed,
    latencies, SQL statements the app's engines sent meanwhile)."""
    issued = 0
    done = 0
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def client() -> None:
        nonlocal issued, done
        while issued < total and time.perf_counter() < deadline:
            issued += 1
            source, destination = pick()
            began = time.perf_counter()
            await transfer(source, destination, f"{label}:{uuid.uuid4().hex}")
            latencies.append(time.perf_counter() - began)
            done += 1

    statements = SQL_STATEMENTS.count
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    if os.environ.get("BENCH_DEBUG"):
        print(f"  {label}: {done / elapsed:.0f}/s, client cpu {(time.process_time() - cpu) / elapsed:.0%}, "
              f"{(time.process_time() - cpu) / max(done, 1) * 1000:.2f} ms cpu/transfer")
    return done, elapsed, latencies, SQL_STATEMENTS.count - statements


async def open_accounts(database: Database, count: int) -> tuple[list[uuid.UUID], uuid.UUID]:
    async with transaction(database) as session:
        source = await ledger.platform_account(session, ASSET, "clearing", allow_negative=True)
        ids = []
        for _ in range(count + 1):
            account = await ledger.get_or_create_account(session, "user", uuid.uuid4(), ASSET, "wallet")
            await ledger.transfer(session, source.id, account.id, OPENING_BALANCE, ASSET, f"open:{account.id}",
                                  "bench.open")
            ids.append(account.id)
    return ids[:-1], ids[-1]


async def bench(args: argparse.Namespace) -> Report:
    server = os.environ.get("TALLY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    name = f"tally_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{server}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    database: Database | None = None
    unpinged: Database | None = None
    pool: asyncpg.Pool | None = None
    try:
        await upgrade_async(url)
        # The app's engine settings (pool pre-ping on: one extra round trip per checkout), and the
        # same without the ping, to show what post() itself costs.
        database = Database.from_url(url, pool_size=args.clients, max_overflow=0)
        unpinged = Database.from_url(url, pool_size=args.clients, max_overflow=0, pool_pre_ping=False)
        pool = await asyncpg.create_pool(f"{server}/{name}", min_size=args.clients, max_size=args.clients)
        accounts, hot = await open_accounts(database, args.accounts)
        rng = random.Random(7)  # a fixed workload, the same for both implementations

        def spread() -> tuple[uuid.UUID, uuid.UUID]:
            source, destination = rng.sample(accounts, 2)
            return source, destination

        def onto_hot() -> tuple[uuid.UUID, uuid.UUID]:
            return rng.choice(accounts), hot

        implementations = {
            TALLY: tally_transfer(database),
            UNPINGED: tally_transfer(unpinged),
            BASELINE: baseline_transfer(pool),
        }
        print(f"ledger bench: {args.clients} clients, up to {args.transfers} transfers or {args.seconds:g}s a run, "
              f"{args.accounts} accounts, {args.rounds} rounds (order alternates), PostgreSQL {name}")

        async def only(label: str) -> None:
            """Close the other implementations' connections (3 x 32 would pass max_connections)."""
            for other, engine in ((TALLY, database), (UNPINGED, unpinged)):
                if other != label:
                    await engine.engine.dispose()
            if label != BASELINE:
                await pool.expire_connections()

        results: list[Result] = []
        for workload, pick in (("spread", spread), ("hot account", onto_hot)):
            for round_number in range(args.rounds):
                order = list(implementations.items())
                if round_number % 2:
                    order.reverse()
                for label, transfer in order:
                    await only(label)  # then warm its connections and statement caches
                    await drive(args.clients, args.clients * 5, 10, pick, transfer, f"warm:{workload}:{label}")
                    done, elapsed, latencies, statements = await drive(
                        args.clients, args.transfers, args.seconds, pick, transfer,
                        f"{workload}:{label}:{round_number}")
                    results.append(Result(workload, label, done, elapsed, latencies, statements))

        def rate(workload: str, implementation: str) -> float:
            return statistics.mean(r.rate for r in results if (r.workload, r.implementation) == (workload,
                                                                                                    implementation))

        print(f"\n{'workload':<12} {TALLY + ' /s':>17} {BASELINE + ' /s':>20} {'ratio':>6}"
              f" {UNPINGED + ' /s':>30} {'ratio':>6}")
        for workload in ("spread", "hot account"):
            tally, bare, base = rate(workload, TALLY), rate(workload, UNPINGED), rate(workload, BASELINE)
            print(f"{workload:<12} {tally:>17.0f} {base:>20.0f} {tally / base:>6.2f} {bare:>30.0f} {bare / base:>6.2f}")

        rows = []
        for workload in ("spread", "hot account"):
            ours = [r for r in results if (r.workload, r.implementation) == (workload, TALLY)]
            latencies = [x * 1000 for r in ours for x in r.latencies]
            statements = sum(r.statements for r in ours) / max(1, sum(r.transfers for r in ours))
            row = Row(f"ledger transfers, {workload} (transfers/s)", rate(workload, TALLY),
                      percentile(latencies, 0.5), percentile(latencies, 0.99), rate(workload, BASELINE),
                      statements=f"{statements:.3g} ({BASELINE_STATEMENTS})")
            row.notes.append(f"{args.clients} clients over {args.accounts} accounts"
                             + (", every transfer into one hot account" if workload != "spread" else "")
                             + "; floor: hand-written asyncpg, same writes; in-process, no HTTP")
            rows.append(row)

        report = await ledger.run_verify(database)
        print(f"\nverify: {report.totals['entries']} entries, {report.totals['postings']} postings, "
              f"{report.violation_count} violation(s)")
        if not report.ok:
            print(report.summary())
        return Report(0 if report.ok else 1, rows)
    finally:
        if pool is not None:
            await pool.close()
        for engine in (database, unpinged):
            if engine is not None:
                await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str]) -> int:
    report = measure(argv)
    print("\n" + table(report.rows))
    return report.status


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench ledger", description=__doc__.split("\n\n")[0])
    options.add_argument("--clients", type=int, default=32)
    options.add_argument("--transfers", type=int, default=3000, help="per implementation, workload and round")
    options.add_argument("--seconds", type=float, default=20.0, help="time limit per run")
    options.add_argument("--accounts", type=int, default=1000)
    options.add_argument("--rounds", type=int, default=2)
    return options


def measure(argv: list[str]) -> Report:
    return asyncio.run(bench(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
