"""Event bus fan-out and job start delay: `python -m bench fanout [--subscribers N] [--events M]`.

There is no subscription field in the schema yet (notificationReceived arrives with the
notifications domain), so this measures the bus itself, the part every subscription sits on:

1. Memory per idle subscriber: traced allocations (tracemalloc) and RSS growth for N of them.
2. N local subscribers on one channel in this process (each a task reading its iterator, as a
   websocket's subscription would), M events published one after another: publish→receive
   latency p50/p99 per delivery, and the time until the last subscriber has each event; CPU
   seconds per thousand deliveries. In memory, and through Redis when it answers.
2. Memory per idle subscriber: traced allocations (tracemalloc) and RSS growth for N more.
3. ARQ enqueue→start delay with Tally's poll delay against ARQ's 0.5 s default, and the same
   for the in-process queue of the embedded default.

Redis: --redis-url, else TALLY_BENCH_REDIS_URL, else redis://127.0.0.1:6379/15. The ARQ part
uses its own queue name there and deletes its keys afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import statistics
import time
import tracemalloc
import uuid
from contextlib import AsyncExitStack
from typing import Any

from redis.asyncio import Redis

from bench._support import Report, Row, table
from jobs.queue import InProcessQueue
from jobs.worker import POLL_DELAY_SECONDS
from tally.bus import EventBus

SUITE = ["--jobs", "20"]
QUICK = ["--subscribers", "300", "--events", "50", "--jobs", "10"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def redis_answers(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        await client.ping()
        return True
    except Exception:
        return False
    finally:
        await client.aclose()


# -- 1. fan-out latency -------------------------------------------------------------------------


async def fanout(url: str | None, subscribers: int, events: int) -> Row:
    bus = EventBus(url, namespace=f"bench-{uuid.uuid4().hex[:8]}", queue_size=max(100, events + 1))
    await bus.connect()
    latencies: list[float] = []
    last_arrival: dict[int, float] = {}
    received = [0] * events
    all_in = [asyncio.Event() for _ in range(events)]

    async def consume(subscription: Any) -> None:
        async for message in subscription:
            now = time.perf_counter()
            n = message["n"]
            latencies.append(now - message["t"])
            received[n] += 1
            if received[n] == subscribers:
                last_arrival[n] = now - message["t"]
                all_in[n].set()

    async with AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(bus.subscribe("bench")) for _ in range(subscribers)]
        readers = [asyncio.create_task(consume(s)) for s in subscriptions]
        await asyncio.sleep(0.1)
        cpu_before = time.process_time()
        started = time.perf_counter()
        for n in range(events):
            await bus.publish("bench", {"n": n, "t": time.perf_counter(), "title": "Quiz done", "points": 10})
            await asyncio.wait_for(all_in[n].wait(), 30)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    await bus.disconnect()

    deliveries = subscribers * events
    fanned = list(last_arrival.values())
    label = "redis " if url else "memory"
    print(
        f"  {label} {subscribers:>6} subs x {events} events: "
        f"publish→receive p50 {ms(percentile(latencies, 0.5))}  p99 {ms(percentile(latencies, 0.99))}  | "
        f"last subscriber p50 {ms(percentile(fanned, 0.5))}  p99 {ms(percentile(fanned, 0.99))}  | "
        f"{deliveries / elapsed:,.0f} deliveries/s, CPU {cpu / deliveries * 1e6:.1f} µs/delivery"
    )
    row = Row(f"event bus fan-out, {subscribers:,} subs, {label.strip()} (deliveries/s)", deliveries / elapsed,
              percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000)
    row.notes.append(f"the bus alone, one process, events one after another; CPU {cpu / deliveries * 1e6:.1f} µs "
                     "per delivery; no floor or peer")
    return row


# -- 2. memory per idle subscriber ------------------------------------------------------------


async def idle_memory(url: str | None, subscribers: int, show_rss: bool) -> None:
    bus = EventBus(url, namespace=f"bench-{uuid.uuid4().hex[:8]}")
    await bus.connect()
    async with AsyncExitStack() as stack:
        # Warm-up: the channel, the upstream subscription, first-time allocations.
        warm = await stack.enter_async_context(bus.subscribe("idle"))
        warm_reader = asyncio.create_task(anext(warm))
        await asyncio.sleep(0.05)
        gc.collect()
        rss_before = rss_bytes()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        readers = []
        for _ in range(subscribers):
            subscription = await stack.enter_async_context(bus.subscribe("idle"))
            readers.append(asyncio.create_task(anext(subscription)))
        await asyncio.sleep(0.05)  # every reader parked on its iterator, as an idle websocket's is
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        rss_after = rss_bytes()
        traced = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        for reader in [warm_reader, *readers]:
            reader.cancel()
        await asyncio.gather(warm_reader, *readers, return_exceptions=True)
    await bus.disconnect()
    label = "redis " if url else "memory"
    # RSS is only meaningful for the first run: later ones reuse the memory earlier ones freed.
    rss = f", {(rss_after - rss_before) / subscribers / 1024:.2f} KiB each RSS" if show_rss else ""
    print(f"  {label} {subscribers:>6} idle subscribers (subscription + reader task): "
          f"{traced / subscribers / 1024:.2f} KiB each traced{rss}")


# -- 3. enqueue→start delay -------------------------------------------------------------------

STARTS: dict[str, float] = {}
STARTED: dict[str, asyncio.Event] = {}


async def bench_probe(ctx: dict[str, Any], key: str) -> None:
    STARTS[key] = time.time()
    STARTED.pop(key).set()


async def probe_once(queue: Any, drain: bool = False) -> float:
    key = uuid.uuid4().hex
    STARTED[key] = started = asyncio.Event()
    enqueued = time.time()
    await queue.enqueue("bench_probe", key)
    await asyncio.wait_for(started.wait(), 10)
    if drain:
        await queue.drain()
    return STARTS.pop(key) - enqueued


async def arq_delay(url: str, poll_delay: float, jobs: int) -> list[float]:
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from jobs.queue import ArqQueue

    queue_name = f"arq:bench:{uuid.uuid4().hex[:8]}"
    worker = Worker(
        functions=[bench_probe], redis_settings=RedisSettings.from_dsn(url), queue_name=queue_name,
        poll_delay=poll_delay, handle_signals=False, keep_result=0,
    )
    runner = asyncio.create_task(worker.async_run())
    queue = ArqQueue(url)
    await queue.start({})
    assert queue.pool is not None
    queue.pool.default_queue_name = queue_name
    delays = []
    try:
        await asyncio.sleep(poll_delay * 2)
        for _ in range(jobs):
            # A random pause puts each enqueue at a random point of the poll cycle.
            await asyncio.sleep(random.uniform(0, poll_delay))
            delays.append(await probe_once(queue))
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        await queue.pool.delete(queue_name)
        await queue.stop()
    return delays


async def in_process_delay(jobs: int) -> list[float]:
    queue = InProcessQueue([bench_probe])
    await queue.start({})
    delays = []
    for _ in range(jobs):
        delays.append(await probe_once(queue, drain=True))
    await queue.stop()
    return delays


def describe(label: str, delays: list[float]) -> None:
    print(
        f"  {label:<34} mean {ms(statistics.mean(delays))}  p50 {ms(percentile(delays, 0.5))}  "
        f"p99 {ms(percentile(delays, 0.99))}  max {ms(max(delays))}  ({len(delays)} jobs)"
    )


# -- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> list[Row]:
    url = args.redis_url
    have_redis = await redis_answers(url)
    backends: list[str | None] = [None] + ([url] if have_redis else [])
    if not have_redis:
        print(f"(Redis at {url.split('@')[-1]} does not answer: memory only, no ARQ figures)")

    print("1. memory per idle subscriber (the bus's share of an idle subscription)")
    for index, backend in enumerate(backends):
        await idle_memory(backend, args.subscribers, show_rss=index == 0)

    print(f"2. fan-out, one process, one channel ({'memory and Redis' if have_redis else 'memory'})")
    rows = [await fanout(backend, args.subscribers, args.events) for backend in backends]

    print("3. enqueue→start delay")
    describe("in-process queue (embedded)", await in_process_delay(args.jobs))
    if have_redis and not args.skip_arq:
        describe(f"ARQ, Tally poll_delay {POLL_DELAY_SECONDS}s", await arq_delay(url, POLL_DELAY_SECONDS, args.jobs))
        describe("ARQ, default poll_delay 0.5s", await arq_delay(url, 0.5, args.jobs))
    return rows[-1:]  # the table shows Redis's when it answers, the path production takes


def main(argv: list[str] | None = None) -> int:
    report = measure(argv or [])
    print("\n" + table(report.rows))
    return report.status


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench fanout", description=__doc__.splitlines()[0])
    options.add_argument("--subscribers", type=int, default=1000)
    options.add_argument("--events", type=int, default=200)
    options.add_argument("--jobs", type=int, default=40, help="jobs per enqueue→start measurement")
    options.add_argument(
        "--redis-url", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    options.add_argument("--skip-arq", action="store_true")
    options.add_argument(
        "--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
        help="event loop; auto picks uvloop when installed, as uvicorn does",
    )
    return options


def measure(argv: list[str]) -> Report:
    args = parser().parse_args(argv)
    loop_factory = None
    if args.loop != "asyncio":
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:
            if args.loop == "uvloop":
                raise
    print(f"event loop: {'uvloop' if loop_factory else 'asyncio'}")
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return Report(0, runner.run(run(args)))
