"""Who sent this request: the bearer token becomes the request's Actor.

A token that is missing, forged, expired, or whose sign-in was revoked makes the request
anonymous: public fields still answer, and fields that need a user say UNAUTHENTICATED. The
revocation check costs one Redis GET per request (or one primary-key read when embedded).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from domain.accounts import sessions, tokens
from domain.actor import Actor
from tally.runtime import Runtime


def client_ip(connection: HTTPConnection) -> str | None:
    return connection.client.host if connection.client else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def actor_for_token(runtime: Runtime, token: str | None, ip: str | None, user_agent: str | None) -> Actor:
    """The actor a bearer token stands for; anonymous unless it is valid and its sign-in is live.

    Websocket connections (connection_init's authorization) use this too.
    """
    anonymous = Actor(ip=ip, user_agent=user_agent)
    if not token or not runtime.settings.secret_key:
        return anonymous
    claims = tokens.decode_access_token(runtime.settings.secret_key, token)
    if claims is None:
        return anonymous
    if not await sessions.sign_in_is_active(runtime, claims.sign_in_id, claims.user_id):
        return anonymous
    return Actor(
        user_id=claims.user_id,
        role=claims.role,
        session_id=claims.sign_in_id,
        ip=ip,
        user_agent=user_agent,
    )


async def authenticate(runtime: Runtime, connection: HTTPConnection, authorization: str | None) -> Actor:
    return await actor_for_token(
        runtime, bearer_token(authorization), client_ip(connection), connection.headers.get("user-agent")
    )
