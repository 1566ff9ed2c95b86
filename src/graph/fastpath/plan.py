"""Compiling a validated query into a plan: per selection, the steps that fill its JSON object.

A plan is built once per (document, operation) and reused by every request that sends the
same text. It is only built when every field in the operation can be answered exactly
without graphql-core's general machinery:

- `__typename`, leaf fields (scalars and enums) and object fields, wrapped in lists and
  non-null in any combination;
- fields whose strawberry definition is a plain attribute (read with `getattr`), the relay
  `id` of a `Node` that keeps strawberry's default id and type-name resolution, and any
  other strawberry resolver (called through the same `GraphQLField.resolve` graphql-core
  would call, so argument conversion, permission extensions and `Info` are strawberry's own).

Anything else (interfaces and unions, introspection, directives such as @skip/@include,
middleware) makes the operation ineligible, and graphql-core runs it as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from operator import attrgetter
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from strawberry.relay.types import Node
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

STRAWBERRY_DEFINITION = "strawberry-definition"
MAX_INT, MIN_INT = 2**31 - 1, -(2**31)


class Ineligible(Exception):
    """The operation uses something the fast path does not answer; graphql-core runs it."""


class StepKind(IntEnum):
    TYPENAME = 0  # `__typename`: the object type's name
    ATTRIBUTE = 1  # a plain strawberry field: getattr(source, python_name)
    NODE_ID = 2  # relay `id`: base64("Type:<node id attribute>")
    RESOLVER = 3  # any other strawberry resolver, called as graphql-core calls it


class Shape(IntEnum):
    LEAF = 0
    LIST = 1
    OBJECT = 2


@dataclass(slots=True, eq=False)
class Completion:
    """How a raw value becomes JSON: null handling, then a leaf, a list or an object."""

    shape: Shape
    nullable: bool
    # LEAF: the exact Python class that passes through unchanged, and the type's own coercion.
    passthrough: type | None = None
    coerce: Any = None
    int_range: bool = False
    finite: bool = False
    # Enums: strawberry's coercion scans the values for each leaf; the member → name table
    # gives the same answer for members of the enum class itself.
    enum_class: type | None = None
    enum_names: dict[Any, str] | None = None
    # LIST: the items' completion; OBJECT: the selection's plan and strawberry's type check.
    item: Completion | None = None
    plan: ObjectPlan | None = None


@dataclass(slots=True, eq=False)
class Step:
    key: str
    kind: StepKind
    field_def: GraphQLField | None
    field_details: list[FieldDetails]
    completion: Completion | None
    getter: Any = None  # ATTRIBUTE and NODE_ID: reads the attribute
    node_class: type | None = None  # NODE_ID: the only class the shortcut applies to
    field_nodes: list[FieldNode] = field(default_factory=list)
    has_arguments: bool = False
    # RESOLVER steps strawberry would call plainly (no field extensions, no exception handlers):
    # the resolver is called directly, its arguments converted once for every object.
    direct: StrawberryField | None = None


@dataclass(slots=True, eq=False)
class ObjectPlan:
    type: GraphQLObjectType
    steps: list[Step]
    # Any resolver in this selection or below: only then do objects carry their response path
    # (resolvers get a real `info.path`; plain attributes need none).
    needs_paths: bool = False
    is_type_of: TypeCheck | None = None


@dataclass(slots=True, eq=False)
class OperationPlan:
    root: ObjectPlan


def compile_operation(
    schema: GraphQLSchema, fragments: dict[str, Any], variable_values: Any, operation: OperationDefinitionNode,
    fragment_definitions: dict[str, Any],
) -> OperationPlan:
    """The plan for a query; raises Ineligible when graphql-core must run it instead."""
    if operation.operation is not OperationType.QUERY:
        raise Ineligible("only queries")
    _refuse_directives(operation, fragment_definitions)
    root_type = schema.query_type
    if root_type is None:
        raise Ineligible("no query type")
    grouped = collect_fields(schema, fragments, variable_values, root_type, operation).grouped_field_set
    compiler = _Compiler(schema, fragments, variable_values, operation)
    return OperationPlan(root=compiler.object_plan(root_type, grouped))


def _refuse_directives(operation: OperationDefinitionNode, fragment_definitions: dict[str, Any]) -> None:
    # @skip/@include make the selection depend on variables, @defer/@stream on delivery; the
    # plan is cached per text, so such operations stay with graphql-core.
    class FindDirective(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            raise Ineligible(f"directive @{node.name.value}")

    visit(operation, FindDirective())
    for definition in fragment_definitions.values():
        visit(definition, FindDirective())


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, Any], variable_values: Any,
                 operation: OperationDefinitionNode) -> None:
        self.schema, self.fragments = schema, fragments
        self.variable_values, self.operation = variable_values, operation

    def object_plan(self, object_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]) -> ObjectPlan:
        plan = ObjectPlan(type=object_type, steps=[], is_type_of=_type_check(object_type))
        for key, details in grouped.items():
            step = self.step(object_type, key, details)
            plan.steps.append(step)
            if step.kind is StepKind.RESOLVER or _completion_needs_paths(step.completion):
                plan.needs_paths = True
        return plan

    def step(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> Step:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return Step(key, StepKind.TYPENAME, None, details, None)
        if name.startswith("__"):
            raise Ineligible("introspection")
        field_def = parent.fields.get(name)
        if field_def is None or field_def.resolve is None:
            raise Ineligible(f"{parent.name}.{name} has no strawberry resolver")
        definition = field_def.extensions.get(STRAWBERRY_DEFINITION)
        if not isinstance(definition, StrawberryField):
            raise Ineligible(f"{parent.name}.{name} is not a strawberry field")
        completion = self.completion(field_def.type, details)
        nodes = [d.node for d in details]
        has_arguments = bool(field_def.args or node.arguments)
        if getattr(field_def.resolve, "_is_default", False) and definition.is_basic_field \
                and definition.default_resolver is getattr and not has_arguments:
            return Step(key, StepKind.ATTRIBUTE, field_def, details, completion,
                        getter=attrgetter(definition.python_name), field_nodes=nodes)
        node_class = _default_node_id_class(parent, name, definition)
        if node_class is not None and not has_arguments:
            return Step(key, StepKind.NODE_ID, field_def, details, completion,
                        getter=attrgetter(node_class.resolve_id_attr()), node_class=node_class, field_nodes=nodes)
        return Step(key, StepKind.RESOLVER, field_def, details, completion, field_nodes=nodes,
                    has_arguments=has_arguments, direct=self.direct(definition))

    def direct(self, definition: StrawberryField) -> StrawberryField | None:
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        if strawberry_schema is None or strawberry_schema.exception_handlers or definition.extensions:
            return None
        if definition.base_resolver is None:
            return None
        return definition

    def completion(self, graphql_type: Any, details: list[FieldDetails]) -> Completion:
        nullable = True
        if isinstance(graphql_type, GraphQLNonNull):
            nullable, graphql_type = False, graphql_type.of_type
        if isinstance(graphql_type, GraphQLList):
            return Completion(Shape.LIST, nullable, item=self.completion(graphql_type.of_type, details))
        if isinstance(graphql_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf(graphql_type, nullable)
        if isinstance(graphql_type, GraphQLObjectType):
            grouped = collect_subfields(self.schema, self.fragments, self.variable_values, self.operation,
                                        graphql_type, details).grouped_field_set
            return Completion(Shape.OBJECT, nullable, plan=self.object_plan(graphql_type, grouped))
        raise Ineligible(f"abstract type {graphql_type}")


def _leaf(graphql_type: GraphQLScalarType | GraphQLEnumType, nullable: bool) -> Completion:
    # The exact classes graphql-core's own coercion returns unchanged, so skipping the call for
    # them gives the same output; everything else goes through coerce_output_value.
    completion = Completion(Shape.LEAF, nullable, coerce=graphql_type.coerce_output_value)
    if graphql_type is GraphQLString or graphql_type is GraphQLID:
        completion.passthrough = str
    elif graphql_type is GraphQLInt:
        completion.passthrough, completion.int_range = int, True
    elif graphql_type is GraphQLBoolean:
        completion.passthrough = bool
    elif graphql_type is GraphQLFloat:
        completion.passthrough, completion.finite = float, True
    elif isinstance(graphql_type, CustomGraphQLEnumType):
        names: dict[Any, str] = {}
        for member in graphql_type.wrapped_cls:
            for name, value in graphql_type.values.items():  # the first match, as strawberry's scan
                if member.value == value.value:
                    names.setdefault(member, name)
                    break
        completion.enum_class, completion.enum_names = graphql_type.wrapped_cls, names
    return completion


def _completion_needs_paths(completion: Completion | None) -> bool:
    while completion is not None and completion.shape is Shape.LIST:
        completion = completion.item
    return completion is not None and completion.plan is not None and completion.plan.needs_paths


def _type_check(object_type: GraphQLObjectType) -> TypeCheck | None:
    """Strawberry's generated is_type_of (it ignores `info`), or None when the type has none.

    A hand-written is_type_of might read `info`, which the fast path does not build for it.
    """
    check = object_type.is_type_of
    if check is None:
        return None
    if "_get_is_type_of" not in getattr(check, "__qualname__", ""):
        raise Ineligible(f"{object_type.name} has a custom is_type_of")
    return TypeCheck(check)


class TypeCheck:
    """Strawberry's is_type_of, asked once per class: its answer depends on the class alone,
    unless the object carries a `strawberry.cast`, which is always asked."""

    __slots__ = ("accepted", "check")

    def __init__(self, check: Any) -> None:
        self.check, self.accepted = check, set()

    def __call__(self, value: Any) -> bool:
        cls = value.__class__
        if cls in self.accepted and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            return True
        if not self.check(value, None):
            return False
        if getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            self.accepted.add(cls)
        return True


def _default_node_id_class(parent: GraphQLObjectType, name: str, definition: StrawberryField) -> type | None:
    """The Node class whose `id` strawberry resolves the default way (NodeID attribute, type name)."""
    if name != "id" or definition.extensions or definition.base_resolver is None:
        return None
    if getattr(definition.base_resolver.wrapped_func, "__func__", None) is not Node._id.__func__:  # type: ignore[attr-defined]
        return None
    origin = getattr(parent.extensions.get(STRAWBERRY_DEFINITION), "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, Node)):
        return None
    if origin.resolve_id.__func__ is not Node.resolve_id.__func__:  # type: ignore[attr-defined]
        return None
    if origin.resolve_typename.__func__ is not Node.resolve_typename.__func__:  # type: ignore[attr-defined]
        return None
    return origin


def document_key(document_or_operation: OperationDefinitionNode | DocumentNode) -> tuple[str, int] | None:
    """The cache key of an operation: its document's text and where the operation starts."""
    loc = document_or_operation.loc
    if loc is None:
        return None
    return (loc.source.body, loc.start)

