"""Strawberry's ASGI GraphQL app, given Tally's context and websocket rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from db.unit_of_work import UnitOfWork
from domain.accounts import tokens
from graph.auth import actor_for_token, authenticate, bearer_token, client_ip
from graph.context import Context
from graph.persisted_queries import PersistedQueries
from graph.subscriptions import SessionWatcher
from tally.logs import request_id_var
from tally.runtime import Runtime
from tally.settings import Settings

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


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
        self.persisted_queries = PersistedQueries(runtime.redis)
        self.session_watcher = SessionWatcher(runtime.bus)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying a persisted query's hash (and no text) is an API call, not a browser.
        return super().should_render_graphql_ide(request) and "extensions" not in request.query_params

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than json on the large nested responses dashboards get.
        return orjson.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Response | None) -> Context:  # type: ignore[override]
        if isinstance(request, Request):
            request.state.sub_response = response
        authorization = request.headers.get("authorization") if isinstance(request, Request) else None
        context = Context(
            request=request,
            response=response,
            runtime=self.runtime,
            uow=UnitOfWork(self.runtime.database, short_reads=isinstance(request, WebSocket)),
            actor=await authenticate(self.runtime, request, authorization),
            request_id=request_id_var.get(),
        )
        request.state.tally_context = context
        return context

    async def get_root_value(self, request: Any) -> None:
        return None

    async def on_ws_connect(self, context: Context) -> None:  # type: ignore[override]
        """Authenticate the connection from connection_init; no valid token closes it with 4403."""
        token = bearer_token(str(context.connection_params.get("authorization") or ""))
        claims = tokens.decode_access_token(self.runtime.settings.secret_key or "", token) if token else None
        websocket = context.request
        actor = await actor_for_token(
            self.runtime, token, client_ip(websocket), websocket.headers.get("user-agent")
        )
        if claims is None or not actor.is_authenticated:
            raise ConnectionRejectionError()
        context.actor = actor
        self.session_watcher.watch(context, claims.expires_at)
        return None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            context = getattr(request.state, "tally_context", None) if isinstance(request, WebSocket) else None
            if context is not None:
                self.session_watcher.forget(context)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = process_result(result)
        sub_response = getattr(request.state, "sub_response", None)
        if sub_response is None or not _wants_graphql_response_json(request):
            return response
        # GraphQL over HTTP: with the newer media type, a request that never executed (parse,
        # validation or variable errors: no error has a path) is a 400 without a data entry.
        sub_response.graphql_response_json = True
        # (PersistedQueryNotFound stays a 200: APQ clients expect it there and retry with the text.)
        request_error = result.errors and all(e.path is None for e in result.errors)
        apq_miss = any((e.extensions or {}).get("code") == "PERSISTED_QUERY_NOT_FOUND" for e in result.errors or ())
        if result.data is None and request_error and not apq_miss:
            sub_response.status_code = 400
            response.pop("data", None)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response_json", False):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        return response

    async def execute_operation(self, request: Any, request_adapter: Any, request_data: Any, **rest: Any) -> Any:
        if not isinstance(request_data, list):
            resolved = await self.persisted_queries.resolve(request_data.query, request_data.extensions)
            if resolved.error is not None:
                return ExecutionResult(data=None, errors=[resolved.error])
            request_data.query = resolved.query
        # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed (strawberry says 400).
        if request_adapter.method == "GET" and _is_mutation(request_data):
            raise HTTPException(405, "Mutations are not allowed over GET; use POST.")
        return await super().execute_operation(
            request=request, request_adapter=request_adapter, request_data=request_data, **rest
        )


def _wants_graphql_response_json(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


def _is_mutation(request_data: Any) -> bool:
    query = getattr(request_data, "query", None)
    if not query:
        return False
    try:
        operation = get_operation_ast(parse(query), getattr(request_data, "operation_name", None))
    except GraphQLError:
        return False  # strawberry reports the syntax error itself
    return operation is not None and operation.operation is OperationType.MUTATION
