"""Hand-written floors for `python -m bench earnings` and `python -m bench wide`, without GraphQL.

What a careful developer would write with Starlette, asyncpg and orjson for one screen each:
decode the same bearer token, check its sign-in, run the fewest statements that answer, build
dicts in the query's order, orjson. The answers must be the same JSON as Tally's, so the
formatting helpers are Tally's own pure functions (money from minor units, hours from
hundredths, rates rounded half up, keyset cursors); the SQL and the request path are not.

- `dashboard_app`: EarningsDashboard (summary, goals with their progress, the first page of
  earnings with their platforms): sign-in, profile, the summary statement, the user's platforms,
  goals with their current amounts (one statement), the page, its count.
- `wide_app`: `me { earnings(first: N) { edges { node { id date hours notes createdAt } } } }`:
  sign-in and one SELECT.

Served by uvicorn as factories; settings from BENCH_EARNINGS_DSN and BENCH_EARNINGS_SECRET. GET
/stats tells how many SQL statements each has sent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

SIGN_IN_SQL = "SELECT 1 FROM sign_ins WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
PROFILE_SQL = "SELECT default_currency FROM earnings_profiles WHERE user_id = $1"
PLATFORMS_SQL = "SELECT id, name, color FROM earning_platforms WHERE user_id = $1"
GOALS_SQL = """
    SELECT g.id, g.title, g.status, g.deadline, g.target_minor, g.currency,
           (SELECT coalesce(sum(e.amount_minor), 0) FROM earnings e
            WHERE e.user_id = g.user_id AND e.currency = g.currency AND e.date BETWEEN g.starts_on AND g.deadline
           ) AS current_minor
    FROM earning_goals g WHERE g.user_id = $1 ORDER BY g.created_at DESC, g.id DESC LIMIT $2
"""
PAGE_SQL = """
    SELECT id, date, amount_minor, currency, hours_centi, platform_id, created_at FROM earnings
    WHERE user_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date DESC, created_at DESC, id DESC LIMIT $4
"""
COUNT_SQL = "SELECT count(*) FROM earnings WHERE user_id = $1 AND date BETWEEN $2 AND $3"
# The statement Tally's summary runs (domain.earnings.summary.summary_query), written by hand.
SUMMARY_SQL = """
WITH daily AS (
    SELECT date AS day, platform_id, sum(amount_minor) AS amount, sum(coalesce(hours_centi, 0)) AS hours,
           sum(CASE WHEN hours_centi > 0 THEN amount_minor ELSE 0 END) AS rated, count(*) AS n
    FROM earnings WHERE user_id = $1 AND currency = $2 AND date BETWEEN $3 AND $4
    GROUP BY date, platform_id
)
SELECT 'day' AS level, day, NULL::varchar AS month, NULL::uuid AS platform_id,
       sum(amount), sum(hours), sum(rated), sum(n) FROM daily GROUP BY day
UNION ALL
SELECT 'month', NULL::date, to_char(day, 'YYYY-MM'), NULL::uuid, sum(amount), sum(hours), sum(rated), sum(n)
FROM daily GROUP BY to_char(day, 'YYYY-MM')
UNION ALL
SELECT 'platform', NULL::date, NULL::varchar, platform_id, sum(amount), sum(hours), sum(rated), sum(n)
FROM daily GROUP BY platform_id
UNION ALL
SELECT 'total', NULL::date, NULL::varchar, NULL::uuid, sum(amount), sum(hours), sum(rated), sum(n) FROM daily
"""
WIDE_SQL = """
    SELECT id, date, hours_centi, notes, created_at FROM earnings
    WHERE user_id = $1 ORDER BY date DESC, created_at DESC, id DESC LIMIT $2
"""


def _app(handler: Callable[..., Any]) -> Any:
    """A Starlette app posting to `handler(conn, claims, variables, state)` after the sign-in check."""
    import asyncpg
    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from domain.accounts.tokens import decode_access_token

    dsn, secret = os.environ["BENCH_EARNINGS_DSN"], os.environ["BENCH_EARNINGS_SECRET"]
    state: dict[str, Any] = {"statements": 0}
    nobody = orjson.dumps({"data": {"me": None}})

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        claims = decode_access_token(secret, token) if scheme.lower() == "bearer" else None
        if claims is None or claims.role == "CHILD":
            return Response(nobody, media_type="application/json")
        async with state["pool"].acquire() as conn:
            state["statements"] += 1
            if await conn.fetchval(SIGN_IN_SQL, claims.sign_in_id, claims.user_id) is None:
                return Response(nobody, media_type="application/json")
            me = await handler(conn, claims, body.get("variables") or {}, state)
        return Response(orjson.dumps({"data": {"me": me}}), media_type="application/json")

    async def stats(request: Request) -> Response:
        return Response(orjson.dumps({"statements": state["statements"]}), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        try:
            yield
        finally:
            await state["pool"].close()

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/stats", stats)],
                     lifespan=lifespan)


def _gid(kind: str, raw: Any) -> str:
    import base64

    return base64.b64encode(f"{kind}:{raw}".encode()).decode()


def wide_app() -> Any:
    """The wide list's floor (uvicorn factory)."""
    from domain.earnings.earnings import hours_from_centi

    async def wide(conn: Any, claims: Any, variables: dict[str, Any], state: dict[str, Any]) -> Any:
        state["statements"] += 1
        rows = await conn.fetch(WIDE_SQL, claims.user_id, int(variables.get("first") or 20))
        edges = []
        for row in rows:
            hours = hours_from_centi(row["hours_centi"])
            edges.append({"node": {
                "id": _gid("Earning", row["id"]), "date": row["date"].isoformat(),
                "hours": str(hours) if hours is not None else None, "notes": row["notes"],
                "createdAt": row["created_at"].isoformat(),
            }})
        return {"earnings": {"edges": edges}}

    return _app(wide)


def dashboard_app() -> Any:
    """EarningsDashboard's floor (uvicorn factory)."""
    from datetime import date

    from db.pagination import encode_cursor
    from domain.earnings.earnings import hours_from_centi, rate_minor
    from domain.money import from_minor

    def money(minor: int, currency: str) -> dict[str, str]:
        return {"amount": str(from_minor(minor, currency)), "currency": currency}

    def hours(centi: int) -> str:
        return str(hours_from_centi(centi))

    def rate(rated: int, centi: int, currency: str) -> dict[str, str] | None:
        minor = rate_minor(rated, centi)
        return money(minor, currency) if minor is not None else None

    async def dashboard(conn: Any, claims: Any, variables: dict[str, Any], state: dict[str, Any]) -> Any:
        user_id = claims.user_id
        start, end = date.fromisoformat(variables["from"]), date.fromisoformat(variables["to"])
        currency = variables.get("currency")
        if currency is None:
            state["statements"] += 1
            currency = await conn.fetchval(PROFILE_SQL, user_id) or "USD"
        state["statements"] += 5  # platforms, the summary, goals, the page and its count
        platforms = {row["id"]: row for row in await conn.fetch(PLATFORMS_SQL, user_id)}
        total, by_day, by_month, by_platform = (0, 0, 0, 0), [], [], []
        for row in await conn.fetch(SUMMARY_SQL, user_id, currency, start, end):
            bucket = (int(row[4] or 0), int(row[5] or 0), int(row[6] or 0))
            if row["level"] == "total":
                total = bucket
            elif row["level"] == "day":
                by_day.append((row["day"], bucket))
            elif row["level"] == "month":
                by_month.append((row["month"], bucket))
            else:
                by_platform.append((row["platform_id"], bucket))
        by_platform.sort(key=lambda item: (-item[1][0], str(item[0])))
        by_month.sort(key=lambda item: item[0])
        by_day.sort(key=lambda item: item[0])
        summary = {
            "currency": currency,
            "total": money(total[0], currency),
            "hours": hours(total[1]),
            "averageHourlyRate": rate(total[2], total[1], currency),
            "byPlatform": [{
                "platform": {"id": _gid("Platform", key), "name": platforms[key]["name"],
                             "color": platforms[key]["color"]},
                "total": money(amount, currency), "hours": hours(centi),
                "share": amount / total[0] if total[0] else 0.0,
            } for key, (amount, centi, _) in by_platform],
            "byMonth": [{"month": month, "total": money(amount, currency)} for month, (amount, _, _) in by_month],
            "byDay": [{"date": day.isoformat(), "total": money(amount, currency)} for day, (amount, _, _) in by_day],
        }
        goals = [{"node": {
            "id": _gid("Goal", row["id"]), "title": row["title"], "status": row["status"],
            "progress": max(0.0, min(1.0, row["current_minor"] / row["target_minor"])),
            "deadline": row["deadline"].isoformat(), "targetAmount": money(row["target_minor"], row["currency"]),
            "currentAmount": money(row["current_minor"], row["currency"]),
        }} for row in await conn.fetch(GOALS_SQL, user_id, 10)]
        rows = await conn.fetch(PAGE_SQL, user_id, start, end, 21)
        count = await conn.fetchval(COUNT_SQL, user_id, start, end)
        page = rows[:20]
        edges = [{"node": {
            "id": _gid("Earning", row["id"]), "date": row["date"].isoformat(),
            "amount": money(row["amount_minor"], row["currency"]),
            "hours": hours(row["hours_centi"]) if row["hours_centi"] is not None else None,
            "platform": {"id": _gid("Platform", row["platform_id"]), "name": platforms[row["platform_id"]]["name"]},
        }} for row in page]
        end_cursor = encode_cursor([page[-1]["date"], page[-1]["created_at"], page[-1]["id"]]) if page else None
        return {
            "id": _gid("User", user_id),
            "earningsSummary": summary,
            "goals": {"edges": goals},
            "earnings": {"totalCount": count, "pageInfo": {"hasNextPage": len(rows) > 20, "endCursor": end_cursor},
                         "edges": edges},
        }

    return _app(dashboard)
