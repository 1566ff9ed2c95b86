"""Family dashboard: Tally's FamilyDashboard beside a hand-written floor and PostGraphile.

    python -m bench family [--children 50] [--tasks 20] [--tasks-first 20] [--seconds 5] [--rounds 2]
                           [--warm 2] [--connections 8] [--no-peer] [--redis URL]

Issue 6's performance check and scenario 1 of issue 8. A fresh PostgreSQL database gets one
parent with --children children, each with --tasks tasks (a third answered right, so their
points and results come from real ledger transfers, plus one wrong attempt each), three gifts
(one unlocked on the way). Seeding goes through the family services, as the app would.

Three servers then run side by side, each in its own process on 127.0.0.1: `tally serve`
(production settings, PostgreSQL, Redis for the sign-in check); the floor, a hand-written
Starlette + asyncpg + orjson app (bench/_family_baseline.py) that decodes the same bearer token,
checks its sign-in, runs four set-based queries (children with names and balances; pending
tasks, gifts and results, each ranked per child with window functions) and must answer the
same JSON; and the peer, PostGraphile 4.14 (bench/_peer.py) answering the equivalent nested
query in its own naming, with no sign-in check at all. See bench/_served.py for how they are
loaded (wrk when installed, else httpx processes) and what is counted. Tally's aims: >= 0.5x
the floor's req/s and >= 1.0x the peer's.

The load generator shares the machine with the servers and PostgreSQL (`nproc` is printed):
figures are relative, for one run on one machine. PostgreSQL: TALLY_BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432), a database created here and dropped afterwards.
Redis: --redis, else TALLY_BENCH_REDIS_URL, else redis://127.0.0.1:6379/9 (flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
import uuid
from typing import Any

from bench import _peer
from bench._served import Target, add_load_arguments, peer_matches, run_served, same_answer, start_servers
from bench._support import Report, Server, asyncpg_url, bench_database, flush_redis, table, tally_env

SUITE = ["--seconds", "8", "--rounds", "2"]
QUICK = ["--seconds", "3", "--rounds", "1", "--warm", "1"]

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



PEER_QUERY = """
query FamilyDashboardPeer($id: UUID!, $childrenFirst: Int, $tasksFirst: Int) {
  userById(id: $id) {
    id
    familyChildrenByParentId(first: $childrenFirst, orderBy: [CREATED_AT_ASC, USER_ID_ASC]) {
      totalCount
      nodes {
        userId
        userByUserId { name }
        ledgerAccountByPointsAccountId { balance }
        familyTasksByChildId(first: $tasksFirst, condition: {status: "PENDING"}, orderBy: [CREATED_AT_DESC, ID_DESC]) {
          totalCount
          nodes { id question pointsReward status subject createdAt }
        }
        familyGiftsByChildId(first: 10, orderBy: [CREATED_AT_DESC, ID_DESC]) {
          nodes { id title pointsThreshold status unlockedAt }
        }
        familyTaskAttemptsByChildId(first: 5, orderBy: [CREATED_AT_DESC, ID_DESC]) {
          nodes { id correct pointsEarned createdAt familyTaskByTaskId { id question } }
        }
      }
    }
  }
}
"""


def rows(answer: Any) -> dict[str, int]:
    """Children, tasks, gifts and results in a dashboard answer, Tally's or the peer's."""
    data = answer["data"]
    if "me" in data:
        children = [edge["node"] for edge in data["me"]["children"]["edges"]]
        lists = {"tasks": "tasks", "gifts": "gifts", "results": "taskResults"}
        count = lambda child, key: len(child[lists[key]]["edges"])  # noqa: E731
    else:
        children = data["userById"]["familyChildrenByParentId"]["nodes"]
        lists = {"tasks": "familyTasksByChildId", "gifts": "familyGiftsByChildId",
                 "results": "familyTaskAttemptsByChildId"}
        count = lambda child, key: len(child[lists[key]]["nodes"])  # noqa: E731
    return {"children": len(children), **{key: sum(count(c, key) for c in children) for key in lists}}


async def run(args: argparse.Namespace) -> Report:
    import orjson

    from db.engine import Database
    from domain.accounts.tokens import issue_access_token
    from tally.runtime import Runtime
    from tally.settings import load_settings

    secret = secrets.token_urlsafe(48)
    servers: list[Server] = []
    async with bench_database("family") as dsn:
        try:
            await flush_redis(args.redis)
            database = Database.from_url(asyncpg_url(dsn))
            started = time.perf_counter()
            runtime = Runtime(load_settings(env="production", database_url=asyncpg_url(dsn), secret_key=secret),
                              database=database)
            parent_id, sign_in_id = await seed(runtime.database, args.children, args.tasks)
            await database.dispose()
            print(f"seeded {args.children} children x {args.tasks} tasks (+ gifts, results, ledger) in "
                  f"{time.perf_counter() - started:.1f} s; nproc={os.cpu_count()}", flush=True)
            token = issue_access_token(secret, parent_id, "MEMBER", sign_in_id).token
            await _peer.prepare(dsn)

            tally, floor, peer = await start_servers(
                tally_env(dsn, args.redis, secret), "bench._family_baseline:baseline_app",
                {"BENCH_FAMILY_DSN": dsn, "BENCH_FAMILY_SECRET": secret}, not args.no_peer, dsn,
            )
            servers = [tally, floor] + ([peer] if peer is not None else [])

            variables = {"childrenFirst": args.children, "tasksFirst": args.tasks_first}
            body = orjson.dumps({"query": dashboard_query(), "variables": variables})
            auth = {"authorization": f"Bearer {token}"}
            ours, theirs = Target(tally, body, auth), Target(floor, body, auth)
            same, answer = await same_answer(ours, theirs)
            if not same:
                return Report(1)
            counted = rows(answer)
            print(f"{len(body)} B request; rows {counted}", flush=True)
            peer_target = None
            if peer is not None:
                peer_body = orjson.dumps({"query": PEER_QUERY, "variables": {"id": str(parent_id), **variables}})
                peer_target = Target(peer, peer_body, {})
                print(_peer.NO_AUTH, flush=True)
                if not await peer_matches(peer_target, answer, rows):
                    return Report(1)

            row, failed = await run_served(f"family dashboard {args.children}x{args.tasks}", ours, theirs,
                                           peer_target, args)
            if peer is not None:
                row.notes.append("peer: PostGraphile 4.14, no sign-in check")
            print(f"\nFamilyDashboard: Tally/floor {row.tally / row.floor:.2f} (aim >= 0.5)"
                  + (f", Tally/peer {row.tally / row.peer:.2f} (aim >= 1.0)" if row.peer else ""))
            return Report(1 if failed else 0, [row])
        finally:
            for server in servers:
                server.stop()
            await flush_redis(args.redis)


def main(argv: list[str] | None = None) -> int:
    report = measure(argv or [])
    print("\n" + table(report.rows))
    return report.status


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m bench family", description=__doc__.splitlines()[0])
    options.add_argument("--children", type=int, default=50)
    options.add_argument("--tasks", type=int, default=20, help="tasks per child")
    options.add_argument("--tasks-first", type=int, default=20, help="the dashboard's $tasksFirst")
    add_load_arguments(options)
    options.add_argument("--redis", default=os.environ.get("TALLY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    return options


def measure(argv: list[str]) -> Report:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
