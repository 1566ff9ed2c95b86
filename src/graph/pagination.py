"""Relay connections (edges, pageInfo, totalCount) over keyset pages from db.pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

from db.pagination import MAX_PAGE_SIZE, Page, PageRequest, PaginationError, decode_cursor
from graph.errors import BadUserInput

NodeT = TypeVar("NodeT")

# The page cap, from TALLY_MAX_PAGE_SIZE. One process serves one app's settings, so create_app
# sets it once rather than every resolver reading the settings from the request's context.
_max_page_size = MAX_PAGE_SIZE


def set_max_page_size(size: int) -> None:
    global _max_page_size
    _max_page_size = size


@strawberry.type(description="One item of a page and the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="A page of a list. Cursors are opaque; at most 100 items a page.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: relay.PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page: Page[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
        return cls(
            edges=[
                Edge(cursor=cursor, node=convert(item))
                for item, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=relay.PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total,
        )


def page_request(
    first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None
) -> PageRequest:
    """Check a field's paging arguments up front, so a bad one is a clear client error."""
    request = PageRequest(first=first, after=after, last=last, before=before, max_size=_max_page_size)
    try:
        request.size  # noqa: B018 - the property validates first/last
        for cursor in (after, before):
            if cursor is not None:
                decode_cursor(cursor)
    except PaginationError as exc:
        raise BadUserInput(str(exc)) from None
    return request
