"""A served scenario: `tally serve`, the hand-written floor and (when it runs) the peer, each
in its own process on loopback, loaded in turn by the same generator.

Before any load the floor's answer must be the same JSON as Tally's, and the peer's must
hold as many rows and leaves. Then each server is warmed, Tally's RSS is read, each server's
SQL statements per request are counted over a few sequential requests (Tally's from
tally_sql_statements_total on /metrics, the floor's from its /stats), the rounds run with
the servers taking turns (the order flips every round, so drifting machine load hits them
alike), and Tally's RSS is read again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench._load import Round, generator, load, mean_round
from bench._support import (
    Row,
    Server,
    counter_value,
    floor_statements,
    leaves,
    post_json,
    rss_mib,
    statements_per_request,
)


@dataclass
class Target:
    server: Server
    body: bytes
    headers: dict[str, str]

    @property
    def name(self) -> str:
        return self.server.name


async def start_servers(tally_env: dict[str, str], floor_factory: str, floor_env: dict[str, str],
                        with_peer: bool, dsn: str) -> tuple[Server, Server, Server | None]:
    """`tally serve`, the scenario's floor and (unless skipped or node is missing) the peer, ready."""
    from bench import _peer

    started = [Server.tally(tally_env), Server.floor(floor_factory, floor_env)]
    try:
        peer = await _peer.started(dsn) if with_peer else None
        if peer is not None:
            started.append(peer)
        await started[0].ready("/health/live")
        await started[1].ready("/stats")
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started[0], started[1], peer


def add_load_arguments(parser: argparse.ArgumentParser, seconds: float = 5.0, rounds: int = 2) -> None:
    parser.add_argument("--seconds", type=float, default=seconds, help="per round and server")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--warm", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections of the load generator")
    parser.add_argument("--no-peer", action="store_true", help="skip PostGraphile")


async def same_answer(tally: Target, floor: Target) -> tuple[bool, Any]:
    """Tally's parsed answer, and whether the floor's is the same JSON."""
    our_bytes, ours = await post_json(tally.server.url, tally.body, tally.headers)
    their_bytes, theirs = await post_json(floor.server.url, floor.body, floor.headers)
    if ours != theirs or "errors" in ours:
        print("Tally and the floor answer differently:", file=sys.stderr)
        print(orjson.dumps(ours)[:1500], "\n---\n", orjson.dumps(theirs)[:1500], file=sys.stderr)
        return False, ours
    print(f"Tally and the floor answer the same JSON ({len(our_bytes):,} B, "
          f"{'byte for byte' if our_bytes == their_bytes else 'same values, different bytes'}), "
          f"{leaves(ours):,} leaves", flush=True)
    return True, ours


async def peer_matches(peer: Target, ours: Any, rows: Callable[[Any], dict[str, int]]) -> bool:
    """Print the peer's rows and leaves beside Tally's; False when the rows differ."""
    _, theirs = await post_json(peer.server.url, peer.body, peer.headers)
    if "errors" in theirs or theirs.get("data") is None:
        print(f"peer answered with errors: {orjson.dumps(theirs)[:600]!r}", file=sys.stderr)
        return False
    ours_rows, their_rows = rows(ours), rows(theirs)
    print(f"peer: rows {their_rows} (Tally {ours_rows}), leaves {leaves(theirs):,} (Tally {leaves(ours):,})",
          flush=True)
    return ours_rows == their_rows


async def run_served(scenario: str, tally: Target, floor: Target, peer: Target | None,
                     args: argparse.Namespace) -> tuple[Row, int]:
    """Load every target; the table's row and how many requests failed."""
    targets = [t for t in (tally, floor, peer) if t is not None]
    print(f"load: {generator()}, {args.connections} connections, {args.rounds} x {args.seconds:g} s per server "
          f"after {args.warm:g} s of warm-up", flush=True)
    for target in targets:
        load(target.name, target.server.url, target.body, target.headers, args.warm, args.connections)
    rss_start = rss_mib(tally.server.pid)

    async def tally_count() -> float:
        return await counter_value(tally.server.port, "tally_sql_statements_total")

    async def floor_count() -> float:
        return await floor_statements(floor.server.port)

    ours = await statements_per_request(tally_count, tally.server.url, tally.body, tally.headers, 5)
    theirs = await statements_per_request(floor_count, floor.server.url, floor.body, floor.headers, 5)
    print(f"SQL statements per request: Tally {ours:g}, floor {theirs:g}", flush=True)

    rounds: dict[str, list[Round]] = {t.name: [] for t in targets}
    for number in range(args.rounds):
        for target in targets if number % 2 == 0 else reversed(targets):
            result = load(target.name, target.server.url, target.body, target.headers, args.seconds,
                          args.connections)
            rounds[target.name].append(result)
            print(result.line(), flush=True)
    rss_end = rss_mib(tally.server.pid)
    summary = {name: mean_round(value) for name, value in rounds.items()}
    row = Row(scenario, summary["tally"].rate, summary["tally"].p50_ms, summary["tally"].p99_ms,
              summary["floor"].rate, summary["peer"].rate if "peer" in summary else None,
              f"{ours:g} ({theirs:g})", rss_start, rss_end)
    print(f"Tally RSS {rss_start:.0f} MiB after warm-up, {rss_end:.0f} MiB after its load "
          f"({rss_end / rss_start:.2f}x; aim <= 1.5x)", flush=True)
    return row, sum(r.failures for value in rounds.values() for r in value)
