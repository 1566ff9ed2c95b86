"""The hand-written baseline for `python -m bench family`: FamilyDashboard's JSON without GraphQL.

What a careful developer would write with Starlette and asyncpg: decode the same bearer token,
check its sign-in, four set-based queries (children with names and balances; pending tasks,
gifts and results, each ranked per child with window functions), dicts, orjson. Served by
uvicorn as a factory (`bench._family_baseline:baseline_app`); settings from BENCH_FAMILY_DSN
and BENCH_FAMILY_SECRET; GET /stats tells how many SQL statements it has sent. Not a benchmark
of its own (the leading underscore keeps it out of `python -m bench`'s list).
"""

from __future__ import annotations

import os
from typing import Any

CHILDREN_SQL = """
    SELECT c.user_id, u.name, a.balance, count(*) OVER () AS total
    FROM family_children c JOIN users u ON u.id = c.user_id JOIN ledger_accounts a ON a.id = c.points_account_id
    WHERE c.parent_id = $1
    ORDER BY c.created_at, c.user_id
    LIMIT $2
"""
TASKS_SQL = """
    SELECT * FROM (
        SELECT id, child_id, question, points_reward, status, subject, created_at,
               row_number() OVER (PARTITION BY child_id ORDER BY created_at DESC, id DESC) AS rank,
               count(*) OVER (PARTITION BY child_id) AS total
        FROM family_tasks WHERE child_id = ANY($1::uuid[]) AND status = 'PENDING'
    ) ranked WHERE rank <= $2 ORDER BY child_id, rank
"""
GIFTS_SQL = """
    SELECT * FROM (
        SELECT id, child_id, title, points_threshold, status, unlocked_at,
               row_number() OVER (PARTITION BY child_id ORDER BY created_at DESC, id DESC) AS rank
        FROM family_gifts WHERE child_id = ANY($1::uuid[])
    ) ranked WHERE rank <= 10 ORDER BY child_id, rank
"""
RESULTS_SQL = """
    SELECT ranked.*, t.question FROM (
        SELECT id, child_id, task_id, correct, points_earned, created_at,
               row_number() OVER (PARTITION BY child_id ORDER BY created_at DESC, id DESC) AS rank
        FROM family_task_attempts WHERE child_id = ANY($1::uuid[])
    ) ranked JOIN family_tasks t ON t.id = ranked.task_id WHERE rank <= 5 ORDER BY ranked.child_id, rank
"""
SIGN_IN_SQL = "SELECT 1 FROM sign_ins WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"


def baseline_app() -> Any:
    """The hand-written endpoint (uvicorn factory); settings from BENCH_FAMILY_DSN / _SECRET."""
    import base64
    import contextlib as ctx
    from collections import defaultdict

    import asyncpg
    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from domain.accounts.tokens import decode_access_token

    dsn, secret = os.environ["BENCH_FAMILY_DSN"], os.environ["BENCH_FAMILY_SECRET"]
    state: dict[str, Any] = {"statements": 0}

    def gid(kind: str, raw: Any) -> str:
        return base64.b64encode(f"{kind}:{raw}".encode()).decode()

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    async def dashboard(request: Request) -> Response:
        body = orjson.loads(await request.body())
        variables = body.get("variables") or {}
        children_first = min(100, variables.get("childrenFirst") or 20)
        tasks_first = min(100, variables.get("tasksFirst") or 20)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        claims = decode_access_token(secret, token) if scheme.lower() == "bearer" else None
        if claims is None:
            return Response(orjson.dumps({"data": {"me": None}}), media_type="application/json")
        async with state["pool"].acquire() as conn:
            state["statements"] += 5  # the sign-in check and the four queries below
            if await conn.fetchval(SIGN_IN_SQL, claims.sign_in_id, claims.user_id) is None:
                return Response(orjson.dumps({"data": {"me": None}}), media_type="application/json")
            children = await conn.fetch(CHILDREN_SQL, claims.user_id, children_first)
            ids = [row["user_id"] for row in children]
            tasks, gifts, results = defaultdict(list), defaultdict(list), defaultdict(list)
            totals: dict[Any, int] = {}
            for row in await conn.fetch(TASKS_SQL, ids, tasks_first):
                totals[row["child_id"]] = row["total"]
                tasks[row["child_id"]].append({"node": {
                    "id": gid("Task", row["id"]), "question": row["question"], "pointsReward": row["points_reward"],
                    "status": row["status"], "subject": row["subject"], "createdAt": when(row["created_at"]),
                }})
            for row in await conn.fetch(GIFTS_SQL, ids):
                gifts[row["child_id"]].append({"node": {
                    "id": gid("Gift", row["id"]), "title": row["title"], "pointsThreshold": row["points_threshold"],
                    "status": row["status"], "unlockedAt": when(row["unlocked_at"]),
                }})
            for row in await conn.fetch(RESULTS_SQL, ids):
                results[row["child_id"]].append({"node": {
                    "id": gid("TaskResult", row["id"]), "correct": row["correct"],
                    "pointsEarned": row["points_earned"], "completedAt": when(row["created_at"]),
                    "task": {"id": gid("Task", row["task_id"]), "question": row["question"]},
                }})
        me = {
            "id": gid("User", claims.user_id),
            "children": {
                "totalCount": children[0]["total"] if children else 0,
                "edges": [{"node": {
                    "id": gid("Child", row["user_id"]), "name": row["name"], "points": row["balance"],
                    "tasks": {"totalCount": totals.get(row["user_id"], 0), "edges": tasks[row["user_id"]]},
                    "gifts": {"edges": gifts[row["user_id"]]},
                    "taskResults": {"edges": results[row["user_id"]]},
                }} for row in children],
            },
        }
        return Response(orjson.dumps({"data": {"me": me}}), media_type="application/json")

    @ctx.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        try:
            yield
        finally:
            await state["pool"].close()

    async def stats(request: Request) -> Response:
        return Response(orjson.dumps({"statements": state["statements"]}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", dashboard, methods=["POST"]), Route("/stats", stats)],
                     lifespan=lifespan)
