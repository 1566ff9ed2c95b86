"""ASGI middleware: a request id on every request, its log line, and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tally.logs import request_id_var

log = logging.getLogger("tally.access")

REQUESTS = Counter("tally_http_requests_total", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("tally_http_request_seconds", "HTTP request latency", ["method", "path"])
# A client may pass its own id for tracing; anything else gets a fresh one.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_KNOWN_PATHS = {"/graphql", "/health/live", "/health/ready", "/metrics"}


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                path = scope["path"] if scope["path"] in _KNOWN_PATHS else "other"
                elapsed = time.perf_counter() - started
                REQUESTS.labels(scope["method"], path, str(status)).inc()
                LATENCY.labels(scope["method"], path).observe(elapsed)
                log.info(
                    "%s %s %s %.1fms", scope["method"], scope["path"], status, elapsed * 1000,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 1)},
                )
            request_id_var.reset(token)
