"""Running a plan: level by level over every object at once, straight into response dicts.

graphql-core completes each field on its own (a ResolveInfo, a path, a dispatch on the
return type, an awaitable check) — about 11 µs a field on this machine class, most of a
dashboard's time. Here each selection position is one `ObjectPlan`, and all the objects that
reach it are filled together: plain attributes and leaves in tight loops, resolvers called
exactly as graphql-core calls them, their awaitables gathered per level (so dataloaders batch
across the whole tree, as they do under graphql-core).

Anything unexpected — an exception, a null in a non-null position, a value a leaf type
refuses, an object strawberry's type check rejects — abandons the attempt: `Fallback` is
raised and graphql-core runs the operation from the start, producing its exact errors,
paths and null propagation. The request's dataloaders keep what they loaded, so the second
run reads the same data. Queries only: nothing has been written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from graphql.pyutils import Path, Undefined
from strawberry.relay.utils import to_base64

from graph.fastpath.plan import MAX_INT, MIN_INT, Completion, ObjectPlan, Shape, Step, StepKind


class Fallback(Exception):
    """The fast path will not answer this request; graphql-core will."""


# One frontier entry: a plan and the objects that reach it, their output dicts and paths.
Frontier = tuple[ObjectPlan, list[Any], list[dict[str, Any]], list[Path | None]]


async def run_plan(executor: Any, root: ObjectPlan, root_value: Any) -> dict[str, Any]:
    """The operation's `data`, or Fallback."""
    data: dict[str, Any] = {}
    frontier: list[Frontier] = [(root, [root_value], [data], [None])]
    while frontier:
        level = _Level(executor)
        pending: list[tuple[Awaitable[Any], Step, dict[str, Any], Path]] = []
        try:
            for plan, sources, outputs, paths in frontier:
                level.fill(plan, sources, outputs, paths, pending)
        except BaseException:
            await _settle(pending)
            raise
        if pending:
            values = await asyncio.gather(*(entry[0] for entry in pending), return_exceptions=True)
            for (_, step, output, path), value in zip(pending, values, strict=True):
                if isinstance(value, BaseException):
                    if isinstance(value, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                        raise value
                    raise Fallback(f"{step.key} raised") from value
                output[step.key] = level.complete(step.completion, value, path)  # type: ignore[arg-type]
        frontier = list(level.next.values())
    return data


async def _settle(pending: list[tuple[Awaitable[Any], Step, dict[str, Any], Path]]) -> None:
    # Resolvers already started must finish before graphql-core reuses the session.
    if pending:
        await asyncio.gather(*(entry[0] for entry in pending), return_exceptions=True)


class _Level:
    """One breadth-first level: fills its objects and collects the next level's."""

    __slots__ = ("executor", "next")

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.next: dict[int, Frontier] = {}

    def fill(self, plan: ObjectPlan, sources: list[Any], outputs: list[dict[str, Any]],
             paths: list[Path | None], pending: list[Any]) -> None:
        type_name = plan.type.name
        for step in plan.steps:
            key, kind = step.key, step.kind
            if kind is StepKind.TYPENAME:
                for output in outputs:
                    output[key] = type_name
            elif kind is StepKind.ATTRIBUTE:
                completion = step.completion
                assert completion is not None
                if completion.shape is Shape.LEAF:
                    _fill_leaves(completion, key, step.getter, sources, outputs)
                else:
                    getter, complete = step.getter, self.complete
                    if plan.needs_paths:
                        for source, output, path in zip(sources, outputs, paths, strict=True):
                            output[key] = complete(completion, getter(source), Path(path, key, type_name))
                    else:
                        for source, output in zip(sources, outputs, strict=True):
                            output[key] = complete(completion, getter(source), None)
            elif kind is StepKind.NODE_ID:
                getter, node_class = step.getter, step.node_class
                for source, output in zip(sources, outputs, strict=True):
                    if source.__class__ is not node_class:
                        raise Fallback(f"{type_name}.id on a {source.__class__.__name__}")
                    output[key] = to_base64(type_name, str(getter(source)))
            else:
                self.resolve(plan, step, sources, outputs, paths, pending)

    def resolve(self, plan: ObjectPlan, step: Step, sources: list[Any], outputs: list[dict[str, Any]],
                paths: list[Path | None], pending: list[Any]) -> None:
        executor, field_def, key, parent = self.executor, step.field_def, step.key, plan.type
        assert field_def is not None
        arguments = _arguments(executor, step)
        resolve, build_info, is_awaitable = field_def.resolve, executor.build_resolve_info, executor.is_awaitable
        for source, output, parent_path in zip(sources, outputs, paths, strict=True):
            path = Path(parent_path, key, parent.name)
            result = resolve(source, build_info(field_def, step.field_nodes, parent, path), **arguments)
            if is_awaitable(result):
                output[key] = None  # keeps the key's place in the object; filled after the gather
                pending.append((result, step, output, path))
            else:
                output[key] = self.complete(step.completion, result, path)  # type: ignore[arg-type]

    def complete(self, completion: Completion, value: Any, path: Path | None) -> Any:
        if value is None:
            if completion.nullable:
                return None
            raise Fallback("null in a non-null position")
        shape = completion.shape
        if shape is Shape.LEAF:
            return _leaf(completion, value)
        if shape is Shape.LIST:
            if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
                raise Fallback("a list field returned a non-list")
            item = completion.item
            assert item is not None
            if item.shape is Shape.OBJECT:
                return self.objects(item, list(value), path)
            if path is None:
                return [self.complete(item, element, None) for element in value]
            return [self.complete(item, element, Path(path, index, None)) for index, element in enumerate(value)]
        plan = completion.plan
        assert plan is not None
        if plan.is_type_of is not None and not plan.is_type_of(value, None):
            raise Fallback(f"not a {plan.type.name}")
        output: dict[str, Any] = {}
        self._enqueue(plan, [value], [output], [path])
        return output

    def objects(self, item: Completion, values: list[Any], path: Path | None) -> list[dict[str, Any] | None]:
        """A list of objects: one output dict each, all queued for the item's plan together."""
        plan = item.plan
        assert plan is not None
        check = plan.is_type_of
        outputs: list[dict[str, Any] | None] = []
        sources, filled, paths = [], [], []
        for index, value in enumerate(values):
            if value is None:
                if not item.nullable:
                    raise Fallback("null in a non-null list position")
                outputs.append(None)
                continue
            if check is not None and not check(value, None):
                raise Fallback(f"not a {plan.type.name}")
            output: dict[str, Any] = {}
            outputs.append(output)
            sources.append(value)
            filled.append(output)
            paths.append(Path(path, index, None) if path is not None else None)
        if sources:
            self._enqueue(plan, sources, filled, paths)
        return outputs

    def _enqueue(self, plan: ObjectPlan, sources: list[Any], outputs: list[dict[str, Any]],
                 paths: list[Path | None]) -> None:
        entry = self.next.get(id(plan))
        if entry is None:
            self.next[id(plan)] = (plan, sources, outputs, paths)
        else:
            entry[1].extend(sources)
            entry[2].extend(outputs)
            entry[3].extend(paths)


def _fill_leaves(completion: Completion, key: str, getter: Any, sources: list[Any],
                 outputs: list[dict[str, Any]]) -> None:
    # The hot loop: one attribute read and one class check per leaf in the common case.
    passthrough, nullable, coerce = completion.passthrough, completion.nullable, completion.coerce
    if passthrough is str or passthrough is bool:
        for source, output in zip(sources, outputs, strict=True):
            value = getter(source)
            output[key] = value if value.__class__ is passthrough else _leaf_or_null(completion, value)
    elif passthrough is None:  # custom scalars and enums: their own coercion, inlined
        for source, output in zip(sources, outputs, strict=True):
            value = getter(source)
            if value is None:
                if not nullable:
                    raise Fallback("null in a non-null position")
                output[key] = None
                continue
            coerced = coerce(value)
            if coerced is None or coerced is Undefined:
                raise Fallback("a leaf coerced to null")
            output[key] = coerced
    else:
        for source, output in zip(sources, outputs, strict=True):
            output[key] = _leaf_or_null(completion, getter(source))


def _leaf_or_null(completion: Completion, value: Any) -> Any:
    if value is None:
        if completion.nullable:
            return None
        raise Fallback("null in a non-null position")
    return _leaf(completion, value)


def _leaf(completion: Completion, value: Any) -> Any:
    passthrough = value.__class__ is completion.passthrough
    if passthrough and completion.int_range:
        passthrough = MIN_INT <= value <= MAX_INT
    elif passthrough and completion.finite:
        passthrough = value == value and value not in (float("inf"), float("-inf"))
    if passthrough:
        return value
    try:
        coerced = completion.coerce(value)
    except Exception as exc:
        raise Fallback("a leaf refused its value") from exc
    if coerced is None or coerced is Undefined:
        raise Fallback("a leaf coerced to null")
    return coerced


def _arguments(executor: Any, step: Step) -> dict[str, Any]:
    """The field's coerced arguments: the same for every object at this position."""
    if not step.has_arguments:
        return {}
    from graphql.execution.values import get_argument_values

    details = step.field_details[0]
    return get_argument_values(step.field_def, details.node, executor.variable_values,  # type: ignore[arg-type]
                               details.fragment_variable_values, executor.hide_suggestions)
