"""Schema extensions that shape every operation: the unit of work's commit or rollback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from tally.logs import request_id_var

log = logging.getLogger(__name__)


class UnitOfWorkExtension(SchemaExtension):
    """Commits a mutation operation once at its end; rolls back queries.

    Each root mutation field runs in its own savepoint (graph.mutations.mutate), so a field that
    is refused or fails unexpectedly has already undone its own writes and dropped its effects;
    what the other fields report as done in `data` is exactly what gets committed.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        uow = getattr(execution.context, "uow", None)
        if uow is None or not uow.started:
            return
        result = execution.result
        try:
            if execution.operation_type is OperationType.MUTATION and result is not None:
                await uow.commit()
            else:
                await uow.rollback()
        except Exception:
            # Nothing was written (the commit failed as a whole); say so without internals.
            log.exception("commit failed")
            if result is not None:
                result.data = None
                result.errors = [
                    GraphQLError(
                        "Internal server error.",
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id_var.get()},
                    )
                ]
        finally:
            await uow.close()
            # The loaders and the context refer to each other: dropped here, a request's rows
            # go with their last reference instead of waiting for a cyclic collection.
            execution.context.forget_loaded()
