"""A GraphQL client that posts documents the way the React client does, over ASGI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse, print_ast

CONTRACT_DIR = Path(__file__).resolve().parent.parent / "contract"


def contract_operation(domain: str, name: str) -> str:
    """One operation of the client contract (tests keep a copy of ../shared/contract)."""
    document = parse((CONTRACT_DIR / f"{domain}.graphql").read_text())
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name and definition.name.value == name:
            return print_ast(definition)
    raise KeyError(f"{domain}.graphql has no operation {name}")


class GraphQLResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.http = response
        self.status = response.status_code
        self.body: dict[str, Any] = response.json()
        self.data: dict[str, Any] | None = self.body.get("data")
        self.errors: list[dict[str, Any]] = self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    def ok(self) -> dict[str, Any]:
        """The data, asserting there were no top-level errors."""
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data


class GraphQLClient:
    def __init__(
        self, app: Any, base_url: str = "http://tally.test", after_request: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        # Tests pass the in-process queue's drain: what a request set off (jobs, deliveries) has
        # finished before the test looks, and never races the test's own writes.
        self.after_request = after_request
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)), base_url=base_url
        )
        self.token: str | None = None

    async def post(
        self, payload: Any, token: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = {
            "content-type": "application/json",
            "accept": "application/graphql-response+json, application/json",
        }
        bearer = token or self.token
        if bearer:
            all_headers["authorization"] = f"Bearer {bearer}"
        all_headers.update(headers or {})
        response = await self.http.post("/graphql", json=payload, headers=all_headers)
        if self.after_request is not None:
            await self.after_request()
        return response

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        operation_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            payload["operationName"] = operation_name
        return GraphQLResponse(await self.post(payload, token=token, headers=headers))

    async def contract(
        self, domain: str, name: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> GraphQLResponse:
        return await self.execute(contract_operation(domain, name), variables, token=token)

    async def aclose(self) -> None:
        await self.http.aclose()
