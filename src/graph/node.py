"""The Relay `Node` interface and `node(id:)`.

Every entity type implements `Node` and a `resolve_nodes` classmethod that loads only what the
viewer may see (through `load_visible_nodes` and a visibility-aware loader), so `node(id:)`
checks access like any other field and another user's object answers exactly like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info


def resolve_node_id(global_id: str, expected: type[relay.Node] | None = None) -> str | None:
    """The raw id inside a global ID, or None when it is malformed or of another type."""
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return None
    if expected is not None and decoded.type_name != expected.__name__:
        type_name = getattr(getattr(expected, "__strawberry_definition__", None), "name", None)
        if decoded.type_name != type_name:
            return None
    return decoded.node_id


async def resolve_node(info: Info, id: strawberry.ID) -> relay.Node | None:
    try:
        decoded = relay.GlobalID.from_id(id)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return None
    definition = info.schema.get_type_by_name(decoded.type_name)
    node_class: Any = getattr(definition, "origin", None)
    if node_class is None or not (isinstance(node_class, type) and issubclass(node_class, relay.Node)):
        return None
    nodes = await node_class.resolve_nodes(info=info, node_ids=[decoded.node_id], required=False)
    found = list(nodes)
    return found[0] if found else None


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID in a raw node id, or None for anything malformed (which then reads as missing)."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


async def load_visible_nodes(
    info: Info,
    node_ids: Iterable[str],
    loader_class: type,
    key: Callable[[Any], uuid.UUID] = lambda row: row.id,
) -> list[Any | None]:
    """The rows behind `node_ids`, in order, through a loader that applies the viewer's visibility;
    None for a malformed id, a missing row, or one that is not the viewer's to see."""
    ids = [parse_uuid(node_id) for node_id in node_ids]
    found = await info.context.loader(loader_class).load_many([i for i in ids if i is not None])
    by_id = {key(row): row for row in found if row is not None}
    return [by_id.get(i) if i is not None else None for i in ids]
