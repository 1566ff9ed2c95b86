"""Running a plan: level by level over every object at once, straight into response dicts.

graphql-core completes each field on its own (a ResolveInfo, a path, a dispatch on the
return type, an awaitable check) — about 11 µs a field on this machine class, most of a
dashboard's time. Here each selection position is one `ObjectPlan`, and all the objects that
reach it are filled together: plain attributes and leaves in tight loops, resolvers called
as strawberry's wrapper calls them (arguments converted once per field, not once per object),
their awaitables gathered per level (so dataloaders batch across the whole tree, as they do
under graphql-core).

Anything unexpected — an exception, a null in a non-null position, a value a leaf type
refuses, an object strawberry's type check rejects — abandons the attempt: `Fallback` is
raised and graphql-core runs the operation from the start with empty dataloaders, as a first
run would, producing its exact errors, paths, null propagation and error order. Queries
only: nothing has been written.
"""

from __future__ import annotations

import asyncio
import math
from base64 import b64encode
from collections.abc import Awaitable
from typing import Any

from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.types.arguments import convert_arguments

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
                elif completion.shape is Shape.OBJECT:
                    getter = step.getter
                    child_paths = [Path(path, key, type_name) for path in paths] if plan.needs_paths else None
                    column = self.objects(completion, [getter(source) for source in sources], child_paths)
                    for output, value in zip(outputs, column, strict=True):
                        output[key] = value
                else:
                    getter, complete = step.getter, self.complete
                    if plan.needs_paths:
                        for source, output, path in zip(sources, outputs, paths, strict=True):
                            output[key] = complete(completion, getter(source), Path(path, key, type_name))
                    else:
                        for source, output in zip(sources, outputs, strict=True):
                            output[key] = complete(completion, getter(source), None)
            elif kind is StepKind.NODE_ID:
                # strawberry's to_base64(type_name, node_id), without its per-call type dispatch
                getter, node_class, prefix = step.getter, step.node_class, f"{type_name}:"
                for source, output in zip(sources, outputs, strict=True):
                    if source.__class__ is not node_class:
                        raise Fallback(f"{type_name}.id on a {source.__class__.__name__}")
                    output[key] = b64encode((prefix + str(getter(source))).encode()).decode()
            else:
                self.resolve(plan, step, sources, outputs, paths, pending)

    def resolve(self, plan: ObjectPlan, step: Step, sources: list[Any], outputs: list[dict[str, Any]],
                paths: list[Path | None], pending: list[Any]) -> None:
        if step.direct is not None:
            self.resolve_directly(plan, step, sources, outputs, paths, pending)
            return
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

    def resolve_directly(self, plan: ObjectPlan, step: Step, sources: list[Any], outputs: list[dict[str, Any]],
                         paths: list[Path | None], pending: list[Any]) -> None:
        """What strawberry's resolver wrapper does, with the arguments converted once per field.

        The wrapper converts the same GraphQL arguments into Python values for every object
        (a dashboard's 50 children: 50 conversions); they do not depend on the object.
        """
        executor, field_def, key, parent, field = self.executor, step.field_def, step.key, plan.type, step.direct
        assert field_def is not None and field is not None and field.base_resolver is not None
        strawberry_schema = executor.schema._strawberry_schema
        info_class = strawberry_schema.config.info_class
        resolver = field.base_resolver
        call, wants_self = resolver.wrapped_func, resolver.self_parameter is not None
        injected = [parameter.name for parameter in (resolver.parent_parameter, resolver.root_parameter)
                    if parameter is not None]
        info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
        raw_arguments = _arguments(executor, step)
        converted: dict[str, Any] | None = None
        build_info, is_awaitable = executor.build_resolve_info, executor.is_awaitable
        for source, output, parent_path in zip(sources, outputs, paths, strict=True):
            path = Path(parent_path, key, parent.name)
            info = None
            if info_name is not None or converted is None:
                info = info_class(_raw_info=build_info(field_def, step.field_nodes, parent, path), _field=field)
            if converted is None:
                converted = convert_arguments(
                    raw_arguments, field.arguments, info=info, config=strawberry_schema.config,
                    scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                )
            kwargs = dict(converted)
            for name in injected:
                kwargs[name] = source
            if info_name is not None:
                kwargs[info_name] = info
            result = call(source, **kwargs) if wants_self else call(**kwargs)
            if is_awaitable(result):
                output[key] = None
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
        if plan.is_type_of is not None and not plan.is_type_of(value):
            raise Fallback(f"not a {plan.type.name}")
        output: dict[str, Any] = {}
        self._enqueue(plan, [value], [output], [path])
        return output

    def objects(self, item: Completion, values: list[Any], paths: list[Path] | Path | None
                ) -> list[dict[str, Any] | None]:
        """Objects for one plan: an output dict each, all queued for the plan together.

        `paths` is one path per value (a column of an object field), or the list field's path
        (items get their index), or None when nothing below needs paths.
        """
        plan = item.plan
        assert plan is not None
        accepts = plan.is_type_of
        outputs: list[dict[str, Any] | None] = []
        sources, filled, queued_paths = [], [], []
        for index, value in enumerate(values):
            if value is None:
                if not item.nullable:
                    raise Fallback("null in a non-null position")
                outputs.append(None)
                continue
            if accepts is not None and not accepts(value):
                raise Fallback(f"not a {plan.type.name}")
            output: dict[str, Any] = {}
            outputs.append(output)
            sources.append(value)
            filled.append(output)
            if paths is None:
                queued_paths.append(None)
            elif isinstance(paths, list):
                queued_paths.append(paths[index])
            else:
                queued_paths.append(Path(paths, index, None))
        if sources:
            self._enqueue(plan, sources, filled, queued_paths)
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
    elif passthrough is int:
        for source, output in zip(sources, outputs, strict=True):
            value = getter(source)
            output[key] = value if value.__class__ is int and MIN_INT <= value <= MAX_INT \
                else _leaf_or_null(completion, value)
    elif passthrough is None:  # custom scalars and enums: their own coercion, inlined
        enum_class, enum_names = completion.enum_class, completion.enum_names
        for source, output in zip(sources, outputs, strict=True):
            value = getter(source)
            if value is None:
                if not nullable:
                    raise Fallback("null in a non-null position")
                output[key] = None
                continue
            if value.__class__ is enum_class:
                name = enum_names.get(value)  # type: ignore[union-attr]
                if name is not None:
                    output[key] = name
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
        passthrough = math.isfinite(value)
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
    details = step.field_details[0]
    return get_argument_values(step.field_def, details.node, executor.variable_values,  # type: ignore[arg-type]
                               details.fragment_variable_values, executor.hide_suggestions)
