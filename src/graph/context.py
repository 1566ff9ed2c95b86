"""The per-request context: who is asking, the unit of work, dataloaders, the request id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from db.unit_of_work import UnitOfWork
from domain.actor import Actor
from tally.runtime import Runtime

L = TypeVar("L")


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    runtime: Runtime
    uow: UnitOfWork
    actor: Actor
    request_id: str | None = None
    # Connection-scoped facts for websockets (e.g. the token's expiry), set by on_ws_connect.
    connection_params: dict[str, Any] = field(default_factory=dict)
    _loaders: dict[type, Any] = field(default_factory=dict)
    # Facts derived from the operation, computed once per request rather than once per object
    # (e.g. whether a list's items select a field); keyed by the deriving function's choice.
    memo: dict[Any, Any] = field(default_factory=dict)

    def loader(self, loader_class: type[L]) -> L:
        """The request's one instance of `loader_class` (created on first use)."""
        instance = self._loaders.get(loader_class)
        if instance is None:
            instance = self._loaders[loader_class] = loader_class(self)
        return instance

    def forget_loaded(self) -> None:
        """Drop the loaders' caches: a long-lived (websocket) context must not serve stale rows.

        Also run at the end of every operation: a loader refers to itself (its load function is
        its own bound method) and to this context, so its cache would otherwise wait for a
        cyclic collection, holding the request's rows; emptied here, they go at once.
        """
        for loader in self._loaders.values():
            loader.clear_all()
            loader.batch = None
        self._loaders.clear()
        self.memo.clear()

    def fresh(self) -> Context:
        """A copy with its own unit of work and loaders: one per subscription event."""
        return Context(
            request=self.request,
            response=None,
            runtime=self.runtime,
            uow=UnitOfWork(self.runtime.database),
            actor=self.actor,
            request_id=self.request_id,
            connection_params=self.connection_params,
        )
