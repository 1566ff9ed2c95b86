"""Wide list: 10,000 rows x 5 scalar fields in one connection page; server CPU per leaf field.

    python -m bench wide [--rows 10000] [--requests 10] [--rounds 1] [--no-peer] [--redis URL]

Scenario 3 of issue 8. One user with --rows earnings (a third with notes), and the query

    me { earnings(first: $first) { edges { node { id date hours notes createdAt } } } }

with $first = --rows: 5 scalar leaves a row. The schema caps a page at 100; this bench alone
raises the cap with TALLY_MAX_PAGE_SIZE for its `tally serve`. Beside it: the floor, a
hand-written Starlette + asyncpg + orjson endpoint (bench/_earnings_baseline.py: wide_app)
whose answer must be the same JSON, and the peer, PostGraphile 4.14 answering the equivalent
query (earningsByUserId, hoursCenti for hours, no sign-in check), which must return as many
rows and leaves.

Each server then answers --requests sequential requests over one connection (the servers take
turns for --rounds rounds): its process's CPU time (utime + stime from /proc/<pid>/stat) over
those requests, divided by requests x rows x 5, is the server CPU per leaf field (aim for
Tally: <= 1 µs); the same requests give req/s and p50/p99. SQL statements per request and
Tally's RSS after warm-up and after its load are printed too.

PostgreSQL: TALLY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432), a database
created here and dropped afterwards. Redis (the served app's sign-in checks): --redis, else
TALLY_BENCH_REDIS_URL, else redis://127.0.0.1:6379/9 (flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench import _peer
from bench._served import Target, peer_matches, same_answer, start_servers
from bench._support import (
    Report,
    Row,
    Server,
    asyncpg_url,
    bench_database,
    counter_value,
    floor_statements,
    flush_redis,
    percentile,
    rss_mib,
    statements_per_request,
    table,
    tally_env,
    tree_cpu_seconds,
)

SUITE = ["--requests", "10", "--rounds", "2"]
QUICK = ["--requests", "4"]
LEAVES_PER_ROW = 5

QUERY = ("query Wide($first: Int!) "
         "{ me { earnings(first: $first) { edges { node { id date hours notes createdAt } } } } }")
PEER_QUERY = """
query WidePeer($id: UUID!, $first: Int!) {
  userById(id: $id) {
    earningsByUserId(first: $first, orderBy: [DATE_DESC, CREATED_AT_DESC, ID_DESC]) {
      edges { node { id date hoursCenti notes createdAt } }
    }
  }
}
"""


def rows(answer: Any) -> dict[str, int]:
    data = answer["data"]
    connection = data["me"]["earnings"] if "me" in data else data["userById"]["earningsByUserId"]
    return {"rows": len(connection["edges"])}


@dataclass
class Sequential:
    """One server's sequential requests, over every round."""

    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def per_leaf_us(self, leaves: int) -> float:
        return self.cpu / (len(self.latencies) * leaves) * 1e6


async def sequential(target: Target, requests: int, into: Sequential) -> None:
    """`requests` POSTs one after another on one keep-alive connection, reading the bytes only."""
    import httpx

    headers = {"content-type": "application/json", **target.headers}
    async with httpx.AsyncClient(timeout=120) as http:
        await http.post(target.server.url, content=target.body, headers=headers)  # connect outside the count
        cpu, wall = tree_cpu_seconds(target.server.pid), time.perf_counter()
        for _ in range(requests):
            started = time.perf_counter()
            response = await http.post(target.server.url, content=target.body, headers=headers)
            into.latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{target.name} answered {response.status_code}")
        into.wall += time.perf_counter() - wall
        into.cpu += tree_cpu_seconds(target.server.pid) - cpu


async def run(args: argparse.Namespace) -> Report:
    from bench.earnings import seed
    from db.engine import Database
    from domain.accounts.tokens import issue_access_token

    secret = secrets.token_urlsafe(48)
    servers: list[Server] = []
    async with bench_database("wide") as dsn:
        try:
            await flush_redis(args.redis)
            database = Database.from_url(asyncpg_url(dsn))
            started = time.perf_counter()
            user_id, sign_in_id = await seed(database, args.rows, notes_every=3)
            await database.dispose()
            await _peer.prepare(dsn)
            print(f"wide list: {args.rows:,} earnings of one user, seeded in {time.perf_counter() - started:.1f} s; "
                  f"nproc={os.cpu_count()}", flush=True)
            token = issue_access_token(secret, user_id, "MEMBER", sign_in_id).token

            tally, floor, peer = await start_servers(
                tally_env(dsn, args.redis, secret, TALLY_MAX_PAGE_SIZE=str(args.rows)),
                "bench._earnings_baseline:wide_app",
                {"BENCH_EARNINGS_DSN": dsn, "BENCH_EARNINGS_SECRET": secret}, not args.no_peer, dsn,
            )
            servers = [tally, floor] + ([peer] if peer is not None else [])

            body = orjson.dumps({"query": QUERY, "variables": {"first": args.rows}})
            auth = {"authorization": f"Bearer {token}"}
            targets = [Target(tally, body, auth), Target(floor, body, auth)]
            same, answer = await same_answer(*targets)
            if not same:
                return Report(1)
            if rows(answer)["rows"] != args.rows:
                print(f"Tally returned {rows(answer)['rows']} rows, not {args.rows}: the page cap did not rise",
                      file=sys.stderr)
                return Report(1)
            if peer is not None:
                peer_body = orjson.dumps({"query": PEER_QUERY, "variables": {"id": str(user_id), "first": args.rows}})
                targets.append(Target(peer, peer_body, {}))
                print(_peer.NO_AUTH, flush=True)
                if not await peer_matches(targets[2], answer, rows):
                    return Report(1)

            for target in targets:  # warm: imports, pools, caches
                await sequential(target, 2, Sequential())
            rss_start = rss_mib(tally.pid)

            async def tally_count() -> float:
                return await counter_value(tally.port, "tally_sql_statements_total")

            async def floor_count() -> float:
                return await floor_statements(floor.port)

            ours = await statements_per_request(tally_count, tally.url, body, auth, 2)
            theirs = await statements_per_request(floor_count, floor.url, body, auth, 2)

            results = {target.name: Sequential() for target in targets}
            for number in range(args.rounds):
                for target in targets if number % 2 == 0 else reversed(targets):
                    await sequential(target, args.requests, results[target.name])
            rss_end = rss_mib(tally.pid)

            leaves = args.rows * LEAVES_PER_ROW
            print(f"{args.requests * args.rounds} sequential requests per server, one connection; "
                  f"{leaves:,} leaf fields a response; SQL statements per request: Tally {ours:g}, floor {theirs:g}")
            for name, result in results.items():
                print(f"  {name:6s} {result.rate:7.2f} req/s  p50 {percentile(result.latencies, 0.5) * 1000:8.1f} ms  "
                      f"p99 {percentile(result.latencies, 0.99) * 1000:8.1f} ms  server CPU "
                      f"{result.cpu / len(result.latencies) * 1000:7.1f} ms a request = "
                      f"{result.per_leaf_us(leaves):6.3f} µs per leaf field", flush=True)
            print(f"Tally RSS {rss_start:.0f} MiB after warm-up, {rss_end:.0f} MiB after its load "
                  f"({rss_end / rss_start:.2f}x; aim <= 1.5x)")
            per_leaf = {name: result.per_leaf_us(leaves) for name, result in results.items()}
            print(f"server CPU per leaf: Tally {per_leaf['tally']:.2f} µs (aim <= 1 µs), "
                  f"floor {per_leaf['floor']:.2f} µs" + (f", peer {per_leaf['peer']:.2f} µs" if peer else ""))

            ms = [x * 1000 for x in results["tally"].latencies]
            row = Row(f"wide list {args.rows:,} rows x 5", results["tally"].rate, percentile(ms, 0.5),
                      percentile(ms, 0.99), results["floor"].rate, results["peer"].rate if peer else None,
                      f"{ours:g} ({theirs:g})", rss_start, rss_end)
            row.notes.append("sequential requests on one connection; server CPU per leaf field: "
                             + ", ".join(f"{name} {value:.2f} µs" for name, value in per_leaf.items())
                             + " (aim for Tally: <= 1 µs)")
            return Report(0, [row])
        finally:
            for server in servers:
                server.stop()
            await flush_redis(args.redis)


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench wide", description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=10_000)
    options.add_argument("--requests", type=int, default=10, help="sequential requests per server and round")
    options.add_argument("--rounds", type=int, default=1)
    options.add_argument("--no-peer", action="store_true", help="skip PostGraphile")
    options.add_argument("--redis", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    return options


def measure(argv: list[str]) -> Report:
    return asyncio.run(run(parser().parse_args(argv)))


def main(argv: list[str]) -> int:
    report = measure(argv)
    print("\n" + table(report.rows))
    return report.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
