"""Family dashboard: Tally's FamilyDashboard beside a hand-written Starlette + asyncpg endpoint.

    python -m bench family [--children 50] [--tasks 20] [--tasks-first 20] [--seconds 10] [--rounds 2]
                           [--clients 2] [--concurrency 8] [--redis URL]

Issue 6's performance check. A fresh PostgreSQL database gets one parent with --children
children, each with --tasks tasks (a third answered right, so their points and results come
from real ledger transfers, plus one wrong attempt each), three gifts (one unlocked on the way).
Seeding goes through the family services, as the app would.

Two servers then run side by side, each one uvicorn process on 127.0.0.1 (uvloop, httptools):
`tally serve` (production settings, PostgreSQL, Redis for the sign-in check), and a
hand-written Starlette app (bench/_family_baseline.py) that does what a careful developer
would without GraphQL: decode the same bearer token, check its sign-in, four set-based
queries (children with names and balances; pending tasks, gifts and results, each ranked per
child with window functions) and orjson. Before any load, both answers are compared: they
must be the same JSON. Then a bounded load generator (httpx, --clients processes of
--concurrency keep-alive connections each, on loopback) hits each server in turn for
--seconds, --rounds times, alternating, and the mean req/s and p50/p99 latency are printed
with Tally's ratio to the baseline (issue 6 aims at >= 0.5).

The load generator shares the machine with both servers and PostgreSQL (`nproc` is printed):
figures are relative, for one run on one machine. PostgreSQL: TALLY_BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432), a database created here and dropped afterwards.
Redis: --redis, else TALLY_BENCH_REDIS_URL, else redis://127.0.0.1:6379/9 (flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench._support import admin_sql, flush_redis, free_port

# -- seeding, through the services ----------------------------------------------------------------


async def seed(database: Any, children: int, tasks_per_child: int) -> tuple[uuid.UUID, uuid.UUID]:
    """The parent and their family; returns (parent id, sign-in id)."""
    from sqlalchemy import select

    from db.models.accounts import SignIn, User
    from db.models.family import FamilyChild, FamilyTaskAnswer
    from domain.accounts import passwords
    from domain.actor import Actor, Role
    from domain.family import answers, gifts, points, tasks
    from tally.clock import clock

    password_hash = passwords.hasher.hash("bench password")
    async with database.sessions() as session:
        parent = User(email="parent@bench.example", name="Bench Parent", role="MEMBER", password_hash=password_hash)
        session.add(parent)
        await session.flush()
        sign_in = SignIn(user_id=parent.id, created_at=clock.now(), user_agent="bench")
        session.add(sign_in)
        await session.commit()
        as_parent = Actor(user_id=parent.id, role=Role.MEMBER)
        for n in range(children):
            kid = User(username=f"kid{n}", name=f"Kid {n}", role="CHILD", password_hash=password_hash)
            session.add(kid)
            await session.flush()
            account = await points.user_points_account(session, kid.id)
            session.add(FamilyChild(user_id=kid.id, parent_id=parent.id, points_account_id=account.id))
            await session.flush()
            as_child = Actor(user_id=kid.id, role=Role.CHILD)
            await gifts.send_gift(session, as_parent, gifts.NewGift(kid.id, "Ice cream", 30, "Well done"))
            await gifts.send_gift(session, as_parent, gifts.NewGift(kid.id, "Cinema", 500))
            await gifts.send_gift(session, as_parent, gifts.NewGift(kid.id, "Bike", 5000))
            for t in range(tasks_per_child):
                task = await tasks.create_task(session, as_parent, tasks.NewTask(
                    child_id=kid.id, question=f"Question {t} for kid {n}: what is {t} + {n}?", points_reward=5 + t,
                    subject=("maths", "reading", "science")[t % 3],
                    answers=[tasks.NewAnswer(str(t + n), True), tasks.NewAnswer(str(t + n + 1), False),
                             tasks.NewAnswer(str(t + n + 2), False)],
                ))
                if t % 3 == 0:
                    options = (await session.scalars(
                        select(FamilyTaskAnswer).where(FamilyTaskAnswer.task_id == task.id)
                        .order_by(FamilyTaskAnswer.position)
                    )).all()
                    await tasks.open_task(session, as_child, task.id)
                    await answers.submit_answer(session, as_child, task.id, options[1].id)
                    await answers.submit_answer(session, as_child, task.id, options[0].id)
            await session.commit()
        return parent.id, sign_in.id


# -- servers and load -----------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"bench-family-{name}-", suffix=".log")
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    async def ready(self, probe: str, timeout: float = 30) -> None:
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
        self.log.seek(0)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def load_worker(url: str, body: bytes, token: str, seconds: float, concurrency: int, queue: Any) -> None:
    """One load-generator process: `concurrency` keep-alive connections posting until the deadline."""
    import httpx

    async def run() -> tuple[int, int, list[float]]:
        latencies: list[float] = []
        failures = 0
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            deadline = time.perf_counter() + seconds

            async def client() -> None:
                nonlocal failures
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    response = await http.post(url, content=body, headers=headers)
                    if response.status_code == 200 and b'"errors"' not in response.content[:64]:
                        latencies.append(time.perf_counter() - started)
                    else:
                        failures += 1

            await asyncio.gather(*(client() for _ in range(concurrency)))
        return len(latencies), failures, latencies

    queue.put(asyncio.run(run()))


@dataclass
class Round:
    server: str
    requests: int
    failures: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def load(url: str, body: bytes, token: str, args: argparse.Namespace, name: str) -> Round:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=load_worker, args=(url, body, token, args.seconds, args.concurrency, queue))
               for _ in range(args.clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    outcomes = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(args.seconds, time.perf_counter() - started - 1.0)  # less the processes' start-up
    latencies = [latency for _, _, some in outcomes for latency in some]
    return Round(name, sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), elapsed, latencies)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


# -- main -------------------------------------------------------------------------------------------


def dashboard_query() -> str:
    """FamilyDashboard as the client sends it, from the contract the tests keep a copy of."""
    from pathlib import Path

    from graphql import OperationDefinitionNode, parse, print_ast

    path = Path(__file__).resolve().parent.parent / "tests" / "contract" / "family.graphql"
    for definition in parse(path.read_text()).definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name and \
                definition.name.value == "FamilyDashboard":
            return print_ast(definition)
    raise LookupError("FamilyDashboard is not in the family contract")


async def fetch_json(url: str, body: bytes, token: str) -> Any:
    import httpx
    import orjson

    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(url, content=body, headers={
            "content-type": "application/json", "authorization": f"Bearer {token}"})
    return orjson.loads(response.content)


async def run(args: argparse.Namespace) -> int:
    import orjson

    from db.engine import Database
    from db.migrate import upgrade_async
    from domain.accounts.tokens import issue_access_token

    pg_server = os.environ.get("TALLY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    name = f"tally_bench_family_{uuid.uuid4().hex[:8]}"
    await admin_sql(pg_server, f'CREATE DATABASE "{name}"')
    dsn = f"{pg_server}/{name}"
    database_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    secret = secrets.token_urlsafe(48)
    servers: list[Server] = []
    try:
        await flush_redis(args.redis)
        await upgrade_async(database_url)
        database = Database.from_url(database_url)
        started = time.perf_counter()
        from tally.runtime import Runtime
        from tally.settings import load_settings

        runtime = Runtime(load_settings(env="production", database_url=database_url, secret_key=secret),
                          database=database)
        parent_id, sign_in_id = await seed(runtime.database, args.children, args.tasks)
        await database.dispose()
        print(f"seeded {args.children} children x {args.tasks} tasks (+ gifts, results, ledger) in "
              f"{time.perf_counter() - started:.1f} s; nproc={os.cpu_count()}", flush=True)
        token = issue_access_token(secret, parent_id, "MEMBER", sign_in_id).token

        base_env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
        tally_env = base_env | {
            "TALLY_ENV": "production", "TALLY_DATABASE_URL": database_url, "TALLY_REDIS_URL": args.redis,
            "TALLY_SECRET_KEY": secret, "TALLY_LOG_LEVEL": "WARNING", "TALLY_WEB_CONCURRENCY": "1",
        }
        tally_port, baseline_port = free_port(), free_port()
        tally = Server("tally", [sys.executable, "-m", "tally.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(tally_port)], tally_env, tally_port)
        baseline = Server("baseline", [
            sys.executable, "-m", "uvicorn", "bench._family_baseline:baseline_app", "--factory", "--host", "127.0.0.1",
            "--port", str(baseline_port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ], base_env | {"BENCH_FAMILY_DSN": dsn, "BENCH_FAMILY_SECRET": secret}, baseline_port)
        servers = [tally, baseline]
        await tally.ready("/health/live")
        await baseline.ready("/graphql")

        variables = {"childrenFirst": args.children, "tasksFirst": args.tasks_first}
        body = orjson.dumps({"query": dashboard_query(), "variables": variables})
        ours, theirs = await fetch_json(tally.url, body, token), await fetch_json(baseline.url, body, token)
        if ours != theirs:
            print("the two endpoints answer differently:", file=sys.stderr)
            print(orjson.dumps(ours)[:1500], "\n---\n", orjson.dumps(theirs)[:1500], file=sys.stderr)
            return 1
        children = ours["data"]["me"]["children"]["edges"]
        nodes = sum(len(c["node"]["tasks"]["edges"]) + len(c["node"]["gifts"]["edges"])
                    + len(c["node"]["taskResults"]["edges"]) for c in children)
        print(f"same JSON from both: {len(body)} B request, {len(orjson.dumps(ours)):,} B response, "
              f"{len(children)} children, {nodes} nested nodes (tasksFirst={args.tasks_first})", flush=True)
        for server in servers:  # warm both (caches, pools, JIT-free but branch-warm)
            load(server.url, body, token, argparse.Namespace(**{**vars(args), "seconds": 2.0}), server.name)

        rounds: dict[str, list[Round]] = {"tally": [], "baseline": []}
        for _ in range(args.rounds):
            for server in servers:
                result = load(server.url, body, token, args, server.name)
                rounds[server.name].append(result)
                print(f"  {server.name:8s} {result.rate:8.1f} req/s  p50 {percentile(result.latencies, 0.5):7.1f} ms"
                      f"  p99 {percentile(result.latencies, 0.99):7.1f} ms  ({result.requests} ok, "
                      f"{result.failures} failed)", flush=True)
        rate = {key: statistics.mean(r.rate for r in value) for key, value in rounds.items()}
        print(f"\nFamilyDashboard, {args.children} children: tally {rate['tally']:.1f} req/s, "
              f"hand-written starlette+asyncpg {rate['baseline']:.1f} req/s, "
              f"ratio {rate['tally'] / rate['baseline']:.2f} (aim: >= 0.5); "
              f"{args.clients} client processes x {args.concurrency} connections, {args.rounds} x {args.seconds:.0f} s")
        failed = sum(r.failures for value in rounds.values() for r in value)
        return 1 if failed else 0
    finally:
        for server in servers:
            server.stop()
        await admin_sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await flush_redis(args.redis)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench family", description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=20, help="tasks per child")
    parser.add_argument("--tasks-first", type=int, default=20, help="the dashboard's $tasksFirst")
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--concurrency", type=int, default=8, help="connections per load-generator process")
    parser.add_argument("--redis", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    args = parser.parse_args(argv)
    return asyncio.run(run(args))
