"""Automatic persisted queries (Apollo's APQ protocol).

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the query text;
a known hash runs the stored document, an unknown one answers `PersistedQueryNotFound` and the
client retries once with the text, which is stored under its hash. Dashboards then send a few
dozen bytes instead of kilobytes, and GET requests with a hash become cacheable.

Documents are kept in Redis (shared by every replica, expiring after a day unused) behind a
small per-process LRU; embedded, in the LRU alone. A hash is stored only when it matches the
text, and only documents under a size cap, so the store cannot be filled with junk cheaply.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass

from graphql import GraphQLError
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 64 * 1024
LOCAL_ENTRIES = 2048
REDIS_TTL_SECONDS = 24 * 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(GraphQLError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def not_found() -> PersistedQueryError:
    return PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


@dataclass
class Resolved:
    query: str | None = None
    error: PersistedQueryError | None = None


class PersistedQueries:
    def __init__(self, redis: Redis | None) -> None:
        self.redis = redis
        self._local: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, query: str | None, extensions: dict | None) -> Resolved:
        """The document to run for a request: its own text, or the one its hash names."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return Resolved(query=query)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return Resolved(error=PersistedQueryError("Unsupported persisted query version.", "BAD_USER_INPUT"))
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            return Resolved(error=PersistedQueryError("sha256Hash must be 64 lowercase hex digits.", "BAD_USER_INPUT"))
        if query is None:
            stored = await self._get(digest)
            return Resolved(query=stored) if stored is not None else Resolved(error=not_found())
        encoded = query.encode()
        if hashlib.sha256(encoded).hexdigest() != digest:
            return Resolved(error=PersistedQueryError("provided sha does not match query", "BAD_USER_INPUT"))
        if len(encoded) <= MAX_DOCUMENT_BYTES:
            await self._put(digest, query)
        return Resolved(query=query)

    async def _get(self, digest: str) -> str | None:
        if digest in self._local:
            self._local.move_to_end(digest)
            return self._local[digest]
        if self.redis is None:
            return None
        try:
            stored = await self.redis.getex(f"tally:apq:{digest}", ex=REDIS_TTL_SECONDS)
        except RedisError:
            log.warning("persisted query store unavailable")
            return None
        if stored is None:
            return None
        query = stored.decode() if isinstance(stored, bytes) else str(stored)
        self._remember(digest, query)
        return query

    async def _put(self, digest: str, query: str) -> None:
        if digest in self._local:
            return
        self._remember(digest, query)
        if self.redis is not None:
            try:
                await self.redis.set(f"tally:apq:{digest}", query, ex=REDIS_TTL_SECONDS)
            except RedisError:
                log.warning("persisted query store unavailable")

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        if len(self._local) > LOCAL_ENTRIES:
            self._local.popitem(last=False)
