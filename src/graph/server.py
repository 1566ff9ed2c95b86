"""Strawberry's ASGI GraphQL app, given Tally's context and websocket rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db.unit_of_work import UnitOfWork
from graph.auth import authenticate
from graph.context import Context
from tally.logs import request_id_var
from tally.runtime import Runtime
from tally.settings import Settings

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)


class TallyGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, runtime: Runtime, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.is_production else "graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=tuple(settings.cors_origins),
        )
        self.runtime = runtime

    async def get_context(self, request: Request | WebSocket, response: Response | None) -> Context:  # type: ignore[override]
        authorization = request.headers.get("authorization") if isinstance(request, Request) else None
        return Context(
            request=request,
            response=response,
            runtime=self.runtime,
            uow=UnitOfWork(self.runtime.database),
            actor=await authenticate(self.runtime, request, authorization),
            request_id=request_id_var.get(),
        )

    async def get_root_value(self, request: Any) -> None:
        return None
