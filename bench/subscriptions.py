"""Live subscriptions at scale: `python -m bench subscriptions [--subscribers N] [--events M] [--redis URL]`.

Issue 4's scale check, end to end: a real `tally serve` process (production settings,
PostgreSQL, Redis) and N websocket clients subscribed to `notificationReceived`, each with
its own committed sign-in and access token, spread over several client processes so the load
generator is not the bottleneck (one Python process reading thousands of sockets falls behind
by itself). Two scenarios, each on a freshly started server so their memory figures are clean:

A. One connection per user (N users, N channels): the server's RSS before, halfway and after
   the clients connect and sit idle → KiB per idle connection; its CPU while idle; then M
   notifications to random users at --rate per second, written and published the way
   `notify` does (row committed, then the event on the bus), each timestamped at the publish
   and at the client's receive → publish→receive p50/p99.
B. Fan-out: --fanout-users users with N/users connections each, events one after another
   (each waits for the previous one's last receiver) → p50/p99 over every receiver and the
   last receiver's latency per event.

For each: server CPU (utime+stime from /proc) per delivered message, the client processes' CPU
and how busy the whole machine was (clients, PostgreSQL and Redis share it with the server, so
on a small machine latency includes their share). Targets: p99 < 100 ms at 10k subscribers and
≤ 30 KiB per idle connection on one process.

CI-sized runs use the default N=1000; 10k is by hand (`--subscribers 10000`): every process
here raises its open-files soft limit to the hard limit, which must exceed N (`ulimit -Hn`).
PostgreSQL: TALLY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432), a database
created here and dropped afterwards. Redis: --redis, else TALLY_BENCH_REDIS_URL, else
redis://127.0.0.1:6379/14, flushed before and after. BENCH_DEBUG=1 adds scenario A's latency
second by second (warm-up, garbage-collector pauses and a busy machine show up there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bench._support import Report, Row, Server, admin_sql, flush_redis, table

SUITE = ["--events", "300", "--idle", "2"]
QUICK = ["--subscribers", "200", "--events", "100", "--idle", "1", "--settle", "1", "--fanout-events", "10"]
PROTOCOL = "graphql-transport-ws"
QUERY = "subscription { notificationReceived { id title createdAt } }"
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else math.nan


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def new_loop_runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


# -- /proc readings -----------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def usage(server: int, clients: list[int]) -> tuple[float, ...]:
    """(time, server CPU, client processes' CPU, machine busy jiffies, machine jiffies): diff two."""
    with open("/proc/stat") as stat:
        jiffies = [int(v) for v in stat.readline().split()[1:9]]
    return (time.perf_counter(), cpu_seconds(server), sum(cpu_seconds(pid) for pid in clients),
            sum(jiffies) - jiffies[3] - jiffies[4], sum(jiffies))


def report_cpu(before: tuple[float, ...], after: tuple[float, ...], delivered: int) -> float:
    """Print the CPU figures; returns the server's µs per delivered message."""
    seconds, server, clients, busy, total = (b - a for a, b in zip(before, after, strict=True))
    print(f"  server CPU {server:.2f} s in {seconds:.1f} s ({server / seconds:.0%} of a core) = "
          f"{server / max(1, delivered) * 1e6:.0f} µs per delivered message; client processes "
          f"{clients:.2f} s; machine {busy / max(1, total):.0%} busy over {os.cpu_count()} CPUs")
    return server / max(1, delivered) * 1e6


# -- client processes ---------------------------------------------------------------------------


def client_main(pipe: Any, url: str, tokens: list[tuple[str, int]], concurrency: int) -> None:
    """One client process: open its share of the connections, record every event's arrival."""
    raise_fd_limit()
    with new_loop_runner() as runner:
        runner.run(client_run(pipe, url, tokens, concurrency))


async def client_run(pipe: Any, url: str, tokens: list[tuple[str, int]], concurrency: int) -> None:
    from websockets import ConnectionClosed
    from websockets.asyncio.client import connect

    records: list[tuple[int, float]] = []  # (event number, receive time)
    counts: Counter[int] = Counter()
    mine = Counter(user for _, user in tokens)
    closes: Counter[str] = Counter()
    stopping = False
    gate = asyncio.Semaphore(concurrency)

    async def open_one(token: str) -> Any:
        async with gate:
            ws = await connect(url, subprotocols=[PROTOCOL], compression=None, ping_interval=None,
                               open_timeout=30, close_timeout=1, max_queue=None)
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"connection_init answered {ack}")
            await ws.send(json.dumps({"id": "feed", "type": "subscribe", "payload": {"query": QUERY}}))
            return ws

    async def read(ws: Any) -> None:
        try:
            async for raw in ws:
                received = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send('{"type": "pong"}')
                    continue
                item = (message.get("payload", {}).get("data") or {}).get("notificationReceived")
                if kind != "next" or item is None:
                    closes[f"unexpected {kind}"] += 1
                    continue
                _, event, user = item["title"].split()
                event_number = int(event)
                records.append((event_number, received))
                counts[event_number] += 1
                if counts[event_number] == mine[int(user)]:
                    pipe.send(("done", event_number, received))  # this process's last receiver
        except ConnectionClosed as closed:
            if not stopping:
                closes[f"closed {closed.rcvd.code if closed.rcvd else 'abnormally'}"] += 1

    results = await asyncio.gather(*(open_one(token) for token, _ in tokens), return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    pipe.send(("ready", len(sockets), failures[:3]))
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_reader(pipe.fileno(), lambda: stop.done() or stop.set_result(None))
    await stop
    stopping = True
    pipe.send(("records", records, dict(closes)))
    for reader in readers:
        reader.cancel()
    for ws in sockets:
        ws.transport.abort()  # the server is stopped next; no need for close handshakes


class Clients:
    """N connections spread round-robin over client processes (spawned: no inherited loop)."""

    def __init__(self, url: str, tokens: list[tuple[str, int]], processes: int, concurrency: int) -> None:
        self.url, self.concurrency = url, concurrency
        self.shares = [tokens[i::processes] for i in range(processes)]
        self.procs: list[Any] = []
        self.pipes: list[Any] = []
        self.ready: list[tuple[int, list[str]]] = []
        self.done: dict[int, list[float]] = {}
        self.finished: list[tuple[list[tuple[int, float]], dict[str, int]]] = []
        self.stopped = False
        self.changed = asyncio.Event()  # set on every message from a client process
        self.server_pid = 0
        self.rss_mib: tuple[float, float, float] | None = None  # started, all connected, all closed again
        self.cpu_per_delivery_us = math.nan

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def expected_done(self, user: int) -> int:
        """How many processes hold connections of `user` (each reports its last receiver)."""
        return sum(1 for share in self.shares if any(u == user for _, u in share))

    async def start(self, which: range, timeout: float) -> None:
        """Start the processes numbered `which`; return once each has opened its connections."""
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        waiting = len(which)
        all_ready = loop.create_future()
        for index in which:
            ours, theirs = context.Pipe()
            proc = context.Process(
                target=client_main, args=(theirs, self.url, self.shares[index], self.concurrency), daemon=True
            )
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.pipes.append(ours)

            def on_message(pipe: Any = ours) -> None:
                nonlocal waiting
                try:
                    while pipe.poll():
                        message = pipe.recv()
                        if message[0] == "done":
                            self.done.setdefault(message[1], []).append(message[2])
                        elif message[0] == "ready":
                            self.ready.append((message[1], message[2]))
                            waiting -= 1
                            if waiting == 0 and not all_ready.done():
                                all_ready.set_result(None)
                        elif message[0] == "records":
                            self.finished.append((message[1], message[2]))
                except (EOFError, OSError):
                    loop.remove_reader(pipe.fileno())
                    if not all_ready.done():
                        all_ready.set_exception(RuntimeError("a client process died before connecting"))
                self.changed.set()

            loop.add_reader(ours.fileno(), on_message)
        await asyncio.wait_for(all_ready, timeout)

    async def until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until `condition()` holds (checked after each message), at most `timeout` seconds."""
        deadline = time.perf_counter() + timeout
        while not condition():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    @property
    def connected(self) -> int:
        return sum(count for count, _ in self.ready)

    async def stop(self, timeout: float = 30) -> tuple[list[tuple[int, float]], Counter[str]]:
        if self.stopped:
            return [], Counter()
        self.stopped = True
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send("stop")
        await self.until(lambda: len(self.finished) >= len(self.procs), timeout)
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            with contextlib.suppress(OSError, ValueError):
                loop.remove_reader(pipe.fileno())
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        records = [r for share, _ in self.finished for r in share]
        closes: Counter[str] = Counter()
        for _, counts in self.finished:
            closes.update(counts)
        return records, closes


# -- the database, the people and the server --------------------------------------------------


@dataclass
class People:
    user_ids: list[uuid.UUID]
    tokens: list[tuple[str, int]]  # (access token, index into user_ids)


async def make_people(database: Any, secret: str, prefix: str, users: int, per_user: int) -> People:
    """Users with committed sign-ins and access tokens, inserted in bulk (one shared password hash)."""
    from sqlalchemy import insert

    from db.models.accounts import SignIn, User
    from domain.accounts import passwords
    from domain.accounts.tokens import issue_access_token
    from tally.clock import clock

    now, password_hash = clock.now(), passwords.hasher.hash("bench password")
    user_rows = [
        {"id": uuid.uuid4(), "email": f"{prefix}{i}@bench.example", "name": f"Bench {i}", "role": "MEMBER",
         "password_hash": password_hash, "failed_attempts": 0, "created_at": now, "updated_at": now}
        for i in range(users)
    ]
    sign_ins = [{"id": uuid.uuid4(), "user_id": row["id"], "created_at": now, "user_agent": "bench"}
                for _ in range(per_user) for row in user_rows]
    async with database.sessions() as session:
        for rows, table in ((user_rows, User.__table__), (sign_ins, SignIn.__table__)):
            for start in range(0, len(rows), 2000):
                await session.execute(insert(table), rows[start:start + 2000])
        await session.commit()
    index = {row["id"]: i for i, row in enumerate(user_rows)}
    tokens = [(issue_access_token(secret, s["user_id"], "MEMBER", s["id"]).token, index[s["user_id"]])
              for s in sign_ins]
    random.shuffle(tokens)
    return People([row["id"] for row in user_rows], tokens)


async def publish(runtime: Any, user_id: uuid.UUID, event: int, user: int) -> float:
    """What `notify` does in a request: the row commits, then the event goes out. Returns its time."""
    from db.unit_of_work import run_effects
    from domain.notifications.service import notify

    async with runtime.database.sessions() as session:
        await notify(session, user_id, type="bench.event", title=f"bench {event} {user}", message="benchmark")
        effects = session.info.pop("tally.after_commit", [])  # the unit of work's after-commit list
        await session.commit()
    published = time.time()
    await run_effects(effects)
    return published


# -- the two scenarios --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def idle_server(args: argparse.Namespace, env: dict[str, str], people: People) -> AsyncIterator[Clients]:
    """A fresh server and every connection open: prints RSS per idle connection and idle CPU."""
    server = Server.tally(env)
    clients = Clients(f"ws://127.0.0.1:{server.port}/graphql", people.tokens, args.processes, args.concurrency)
    try:
        await server.ready("/health/ready")
        pid, half, total = server.proc.pid, max(1, args.processes // 2), len(people.tokens)
        before, started = rss_kib(pid), time.perf_counter()
        await clients.start(range(half), 60 + total / 20)  # two waves: RSS halfway gives the slope
        await asyncio.sleep(args.settle)
        at_half, connected_half = rss_kib(pid), clients.connected
        await clients.start(range(half, args.processes), 60 + total / 20)
        took, failures = time.perf_counter() - started, [f for _, share in clients.ready for f in share]
        print(f"  connect+subscribe: {clients.connected}/{total} in {took:.1f} s"
              + (f"; failures like {failures[0]}" if failures else ""))
        await asyncio.sleep(args.settle)
        idle = usage(pid, clients.pids)
        await asyncio.sleep(args.idle)
        seconds, server_cpu = (b - a for a, b in zip(idle[:2], usage(pid, clients.pids)[:2], strict=True))
        after, n = rss_kib(pid), max(1, clients.connected)
        marginal = (after - at_half) / max(1, clients.connected - connected_half)
        print(f"  server RSS {before / 1024:.1f} MiB before, {at_half / 1024:.1f} MiB with {connected_half}, "
              f"{after / 1024:.1f} MiB with {clients.connected} → {(after - before) / n:.1f} KiB per idle "
              f"connection (marginal {marginal:.1f} KiB)")
        print(f"  idle server CPU: {server_cpu / seconds:.1%} of a core "
              f"({server_cpu / seconds / n * 1e6:.1f} µs per connection per second)")
        clients.server_pid = pid
        yield clients
        await clients.stop(5)
        await asyncio.sleep(args.settle)  # the server drops the closed connections' state
        clients.rss_mib = (before / 1024, after / 1024, rss_kib(pid) / 1024)
        print(f"  server RSS after every client left: {clients.rss_mib[2]:.1f} MiB")
    finally:
        await clients.stop(5)
        server.stop()


def timeline(published: dict[int, float], records: list[tuple[int, float]]) -> None:
    """BENCH_DEBUG=1: latency by the second of publishing, to tell warm-up from steady state."""
    first, seconds = min(published.values()), {}
    for event, received in records:
        seconds.setdefault(int(published[event] - first), []).append(received - published[event])
    for second, values in sorted(seconds.items()):
        print(f"    second {second}: {len(values)} deliveries, p50 {ms(percentile(values, 0.5))}  "
              f"max {ms(max(values))}")


async def per_user(args: argparse.Namespace, env: dict[str, str], runtime: Any, people: People) -> Row:
    n = len(people.user_ids)
    print(f"A. one connection per user ({n} users, {n} channels)")
    async with idle_server(args, env, people) as clients:
        published: dict[int, float] = {}
        gate = asyncio.Semaphore(8)

        async def one(event: int) -> None:
            user = random.randrange(n)
            async with gate:
                published[event] = await publish(runtime, people.user_ids[user], event, user)

        before, tasks = usage(clients.server_pid, clients.pids), []
        for event in range(args.events):  # at a steady rate, not waiting for deliveries
            await asyncio.sleep(max(0.0, before[0] + event / args.rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(event)))
        await asyncio.gather(*tasks)
        await clients.until(lambda: len(clients.done) >= args.events, args.timeout)
        clients.cpu_per_delivery_us = report_cpu(before, usage(clients.server_pid, clients.pids), len(clients.done))
        records, closes = await clients.stop()
        latencies = [received - published[event] for event, received in records if event in published]
        if os.environ.get("BENCH_DEBUG"):
            timeline(published, records)
        print(f"  {args.events} events at {args.rate:g}/s to random users: publish→receive "
              f"p50 {ms(percentile(latencies, 0.5))}  p99 {ms(percentile(latencies, 0.99))}  "
              f"max {ms(max(latencies, default=math.nan))}; delivered {len(latencies)}/{args.events}"
              + (f"; {dict(closes)}" if closes else ""))
    return live_row(f"live feed, {n:,} websockets, 1 per user", clients, latencies,
                    f"{args.events} events at {args.rate:g}/s to random users")


def live_row(scenario: str, clients: Clients, latencies: list[float], what: str) -> Row:
    """A subscription scenario's table row: latency and server RSS; no throughput (events are paced)."""
    row = Row(scenario, None, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000)
    if clients.rss_mib is not None:
        started, connected, closed = clients.rss_mib
        row.rss_start_mib, row.rss_end_mib = started, closed
        row.notes.append(f"{what}; publish→receive latency; server RSS {connected:.0f} MiB with every client "
                         f"connected; {clients.cpu_per_delivery_us:.0f} µs server CPU per delivery")
    return row


async def fan_out(args: argparse.Namespace, env: dict[str, str], runtime: Any, people: People) -> Row:
    users, each = len(people.user_ids), len(people.tokens) // len(people.user_ids)
    print(f"B. fan-out: {users} users x {each} connections ({users} channels)")
    async with idle_server(args, env, people) as clients:
        published: dict[int, float] = {}
        last: list[float] = []
        before = usage(clients.server_pid, clients.pids)
        for event in range(args.fanout_events):
            user = event % users
            published[event] = await publish(runtime, people.user_ids[user], event, user)
            expected = clients.expected_done(user)
            if await clients.until(lambda: len(clients.done.get(event, [])) >= expected, args.timeout):  # noqa: B023
                last.append(max(clients.done[event]) - published[event])
            await asyncio.sleep(0.05)
        after = usage(clients.server_pid, clients.pids)
        records, closes = await clients.stop()
        clients.cpu_per_delivery_us = report_cpu(before, after, len(records))
        latencies = [received - published[event] for event, received in records if event in published]
        print(f"  {args.fanout_events} events one after another, each to {each} subscribers: publish→receive "
              f"p50 {ms(percentile(latencies, 0.5))}  p99 {ms(percentile(latencies, 0.99))}; last receiver "
              f"p50 {ms(percentile(last, 0.5))}  p99 {ms(percentile(last, 0.99))}  "
              f"max {ms(max(last, default=math.nan))}; delivered {len(latencies)}/{args.fanout_events * each}"
              + (f"; {dict(closes)}" if closes else ""))
    return live_row(f"websocket fan-out, {users} users x {each} connections", clients, latencies,
                    f"{args.fanout_events} events one after another")


# -- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> list[Row]:
    import secrets

    from db.migrate import upgrade_async
    from tally.runtime import Runtime
    from tally.settings import load_settings

    pg_server = os.environ.get("TALLY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    name = f"tally_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(pg_server, f'CREATE DATABASE "{name}"')
    database_url = f"{pg_server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    secret = secrets.token_urlsafe(48)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")} | {
        "TALLY_ENV": "production", "TALLY_DATABASE_URL": database_url, "TALLY_REDIS_URL": args.redis,
        "TALLY_SECRET_KEY": secret, "TALLY_LOG_LEVEL": "WARNING", "TALLY_WEB_CONCURRENCY": "1",
    }
    runtime = None
    rows: list[Row] = []
    try:
        await flush_redis(args.redis)
        await upgrade_async(database_url)
        runtime = Runtime(load_settings(env="production", database_url=database_url, redis_url=args.redis,
                                        secret_key=secret))
        await runtime.start(start_jobs=False)
        n, fans = args.subscribers, args.fanout_users
        started = time.perf_counter()
        single = await make_people(runtime.database, secret, "solo", n, 1)
        shared = await make_people(runtime.database, secret, "fan", fans, max(1, n // fans))
        print(f"{n} + {fans} users, {len(single.tokens) + len(shared.tokens)} sign-ins and tokens in "
              f"{time.perf_counter() - started:.1f} s; {args.processes} client processes")
        if not args.skip_per_user:
            rows.append(await per_user(args, env, runtime, single))
        if not args.skip_fanout:
            rows.append(await fan_out(args, env, runtime, shared))
        print("targets (issue 4): publish→receive p99 < 100 ms at 10k subscribers; ≤ 30 KiB per idle connection")
        return rows
    finally:
        if runtime is not None:
            await runtime.stop()
        await admin_sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await flush_redis(args.redis)


def main(argv: list[str] | None = None) -> int:
    report = measure(argv or [])
    print("\n" + table(report.rows))
    return report.status


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench subscriptions", description=__doc__.splitlines()[0])
    options.add_argument("--subscribers", type=int, default=1000, help="connections per scenario (10k: by hand)")
    options.add_argument("--events", type=int, default=500, help="per-user events in scenario A")
    options.add_argument("--rate", type=float, default=100, help="scenario A's events per second")
    options.add_argument("--fanout-users", type=int, default=10)
    options.add_argument("--fanout-events", type=int, default=20)
    options.add_argument("--processes", type=int, default=0, help="client processes (default: 1 per 250, 2 to 16)")
    options.add_argument("--concurrency", type=int, default=50, help="handshakes in flight per client process")
    options.add_argument("--idle", type=float, default=5, help="seconds idle for the idle CPU figure")
    options.add_argument("--settle", type=float, default=2, help="seconds to wait before reading RSS")
    options.add_argument("--timeout", type=float, default=30, help="seconds to wait for deliveries")
    options.add_argument("--redis", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    options.add_argument("--skip-per-user", action="store_true")
    options.add_argument("--skip-fanout", action="store_true")
    return options


def measure(argv: list[str]) -> Report:
    args = parser().parse_args(argv)
    args.processes = args.processes or min(16, max(2, math.ceil(args.subscribers / 250)))
    raise_fd_limit()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.subscribers + 200:
        print(f"open-files limit {soft} is below {args.subscribers} connections: raise `ulimit -Hn`", file=sys.stderr)
        return Report(2)
    with new_loop_runner() as runner:
        return Report(0, runner.run(run(args)))
