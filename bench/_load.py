"""The load generator: wrk when installed (Debian's `wrk`), else httpx in spawned processes."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench._support import percentile


@dataclass
class Round:
    server: str
    requests: int
    failures: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else math.nan

    def line(self) -> str:
        return (f"  {self.server:6s} {self.rate:8.1f} req/s  p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms  "
                f"({self.requests} ok, {self.failures} failed)")


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "httpx"


WRK_SCRIPT = """
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then wrk.headers["authorization"] = auth end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\\n", summary.requests, e.connect + e.read + e.write + e.timeout,
    e.status, summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def load(server: str, url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> Round:
    """`connections` keep-alive connections posting `body` for `seconds`: wrk if installed, else httpx."""
    if generator() == "wrk":
        return _wrk(server, url, body, headers, seconds, connections)
    return _httpx(server, url, body, headers, seconds, connections)


def _wrk(server: str, url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> Round:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script, payload = os.path.join(folder, "post.lua"), os.path.join(folder, "body.json")
        with open(script, "w") as handle:
            handle.write(WRK_SCRIPT)
        with open(payload, "wb") as handle:
            handle.write(body)
        env = os.environ | {"BENCH_BODY": payload, "BENCH_AUTH": headers.get("authorization", "")}
        # One thread: wrk needs far less than a core at these rates, and the servers need the rest.
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s", "-s", script,
                   url]
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 90, check=False)
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", finished.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk failed: {finished.stdout[-1000:]} {finished.stderr[-1000:]}")
    total, broken, bad_status, micros, p50, p99 = (int(v) for v in found.groups())
    failures = broken + bad_status
    return Round(server, total - bad_status, failures, micros / 1e6, p50 / 1000, p99 / 1000)


def _httpx_worker(url: str, body: bytes, headers: dict[str, str], seconds: float, concurrency: int, queue: Any) -> None:
    """One load-generator process: `concurrency` keep-alive connections posting until the deadline."""
    import httpx

    async def run() -> tuple[int, int, list[float]]:
        latencies: list[float] = []
        failures = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            deadline = time.perf_counter() + seconds

            async def client() -> None:
                nonlocal failures
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    response = await http.post(url, content=body, headers={"content-type": "application/json",
                                                                           **headers})
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - started)
                    else:
                        failures += 1

            await asyncio.gather(*(client() for _ in range(concurrency)))
        return len(latencies), failures, latencies

    queue.put(asyncio.run(run()))


def _httpx(server: str, url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> Round:
    processes = 2 if connections >= 2 else 1  # one Python process cannot keep many connections busy
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    shares = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    workers = [context.Process(target=_httpx_worker, args=(url, body, headers, seconds, share, queue))
               for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    outcomes = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(seconds, time.perf_counter() - started - 1.0)  # less the processes' start-up
    latencies = sorted(latency for _, _, some in outcomes for latency in some)
    return Round(server, sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), elapsed,
                 percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000)


def mean_round(rounds: list[Round]) -> Round:
    """The rounds of one server together: their mean rate, and the median of their percentiles."""
    import statistics

    return Round(rounds[0].server, sum(r.requests for r in rounds), sum(r.failures for r in rounds),
                 sum(r.seconds for r in rounds), statistics.median(r.p50_ms for r in rounds),
                 statistics.median(r.p99_ms for r in rounds))
