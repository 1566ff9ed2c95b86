"""Who sent this request: the bearer token becomes the request's Actor.

The accounts domain verifies tokens; until a token is presented and valid the actor is anonymous.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from domain.actor import Actor
from tally.runtime import Runtime


def client_ip(connection: HTTPConnection) -> str | None:
    return connection.client.host if connection.client else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(runtime: Runtime, connection: HTTPConnection, authorization: str | None) -> Actor:
    del runtime, authorization  # the accounts issue verifies tokens here
    return Actor(ip=client_ip(connection), user_agent=connection.headers.get("user-agent"))
