"""GET /exports/earnings.csv?from=YYYY-MM-DD&to=YYYY-MM-DD: the viewer's earnings as CSV.

Authenticated like GraphQL, with the bearer token (401 without one, 403 for an account that
may not use earnings). Both dates are optional and inclusive. The body streams from a
server-side cursor (domain.earnings.export), so its size does not decide the memory it takes.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from domain.earnings.export import csv_chunks
from domain.earnings.policies import may_use_earnings
from graph.auth import authenticate


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    return date.fromisoformat(value)


async def export_earnings_csv(request: Request) -> Response:
    runtime = request.app.state.runtime
    actor = await authenticate(runtime, request, request.headers.get("authorization"))
    if not actor.is_authenticated:
        return PlainTextResponse("Sign in first: send Authorization: Bearer <access token>.\n", status_code=401,
                                 headers={"www-authenticate": "Bearer"})
    if not may_use_earnings(actor):
        return PlainTextResponse("This account does not use earnings.\n", status_code=403)
    try:
        start, end = _date(request, "from"), _date(request, "to")
    except ValueError:
        return PlainTextResponse("from and to are dates like 2026-01-31.\n", status_code=400)
    if start is not None and end is not None and start > end:
        return PlainTextResponse("from must not be after to.\n", status_code=400)
    name = "earnings" + (f"-from-{start}" if start else "") + (f"-to-{end}" if end else "") + ".csv"
    return StreamingResponse(
        csv_chunks(runtime.database, actor, start, end),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
    )
