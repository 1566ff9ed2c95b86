"""The ASGI application, wired explicitly: routes, middleware, and the runtime's lifespan."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from graph import health
from graph.earnings.export import export_earnings_csv
from graph.middleware import RequestIdMiddleware
from graph.pagination import set_max_page_size
from graph.schema import build_schema
from graph.server import TallyGraphQL
from tally.logs import configure_logging
from tally.runtime import Runtime
from tally.settings import Settings, get_settings

# A young collection every 50,000 net new tracked objects rather than 700. Requests leave
# almost no cyclic garbage (Context.forget_loaded), so the count is mostly objects still in
# use: the default collected ~25 times a FamilyDashboard, rescanning the same live rows, for
# 14 ms of its CPU at 8 requests at once; 50,000 makes it 4 ms (RSS: see the README table).
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """For a serving process, once started."""
    # Everything built so far (schema, modules, pools) lives as long as the process: frozen,
    # the cyclic GC stops rescanning it on every full collection (about half a nested
    # dashboard's CPU went there).
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """The app. Given a runtime (tests), the caller starts and stops it; otherwise the lifespan does."""
    settings = settings or (runtime.settings if runtime else get_settings())
    owns_runtime = runtime is None
    if owns_runtime:
        configure_logging(settings.log_level, json_lines=settings.is_production)
    runtime = runtime or Runtime(settings)
    set_max_page_size(settings.max_page_size)
    schema = build_schema(production=settings.is_production, fast_path=settings.fast_path)
    graphql = TallyGraphQL(schema, runtime, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if owns_runtime:
            await runtime.start()
            tune_garbage_collector()
        try:
            yield
        finally:
            if owns_runtime:
                await runtime.stop()

    middleware = [Middleware(RequestIdMiddleware)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health/live", health.live),
            Route("/health/ready", health.ready),
            Route("/metrics", health.metrics),
            Route("/exports/earnings.csv", export_earnings_csv),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.graphql = graphql
    return app
