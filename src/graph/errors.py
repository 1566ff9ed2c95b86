"""Top-level GraphQL errors with a stable `extensions.code`, and masking of everything else."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaskErrors

from db.pagination import PaginationError
from tally.logs import request_id_var

log = logging.getLogger("tally.errors")


class TallyError(GraphQLError):
    """An error the client is meant to see; everything else is masked."""

    code = "BAD_REQUEST"
    default_message = "Bad request."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(message or self.default_message, extensions={"code": self.code, **extensions})


class Unauthenticated(TallyError):
    code = "UNAUTHENTICATED"
    default_message = "You must be signed in."


class Forbidden(TallyError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this."


class RateLimited(TallyError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts; try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retryAfter=retry_after)


class BadUserInput(TallyError):
    code = "BAD_USER_INPUT"
    default_message = "The input is not valid."


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    client_mistake = TallyError | PaginationError | StrawberryInputCoercionError
    return original is not None and not isinstance(original, client_mistake)


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions become a fixed message plus the request id; the log keeps the rest."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # A forged cursor surfaces deep in a query, a malformed date in a variable as a scalar's
        # coercion error (StrawberryInputCoercionError): both are still the client's mistake.
        for error in errors:
            if isinstance(error.original_error, PaginationError | StrawberryInputCoercionError):
                error.extensions = {"code": BadUserInput.code}
        return super()._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_var.get()
        original = error.original_error
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()) or "operation",
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


def field_errors(errors: Sequence[Any], error_type: type) -> list[Any]:
    """Domain errors (field, code, message) as a payload's typed error objects."""
    return [error_type(field=e.field, code=e.code, message=e.message) for e in errors]


@strawberry.interface(description="A problem with the input or a broken business rule; nothing was written.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase); null for the whole input.")
    message: str
