"""The family fields on `me`: a parent's children, a child's own profile.

Only resolvers here (User holds the data); `self.id` is the viewer's user id.
"""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from domain.family.policies import is_child, is_parent
from graph.family.loaders import VisibleChildById
from graph.family.types import Child, children_of
from graph.pagination import Connection, page_request


@strawberry.type
class FamilyViewerFields:
    @strawberry.field(description="The viewer's children, oldest first (empty for a child).")
    async def children(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[Child]:
        actor = info.context.actor
        viewer = uuid.UUID(str(self.id))  # type: ignore[attr-defined]
        if not is_parent(actor) or actor.user_id != viewer:
            page_request(first, after, last, before)  # bad arguments are still the client's mistake
            return Connection(edges=[], page_info=_EMPTY_PAGE_INFO, total_count=0)
        return await children_of(info, viewer, first, after, last, before)

    @strawberry.field(description="The signed-in child's own profile; null for adults.")
    async def child_profile(self, info: Info) -> Child | None:
        actor = info.context.actor
        viewer = uuid.UUID(str(self.id))  # type: ignore[attr-defined]
        if not is_child(actor) or actor.user_id != viewer:
            return None
        row = await info.context.loader(VisibleChildById).load(viewer)
        return Child.from_model(row) if row is not None else None


_EMPTY_PAGE_INFO = strawberry.relay.PageInfo(
    has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
)
