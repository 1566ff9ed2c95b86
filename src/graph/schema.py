"""The schema: every domain's queries, mutations and subscriptions, and the extensions on them."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info

from graph.accounts.mutations import AccountMutation, SignInMutation
from graph.accounts.queries import AccountsQuery
from graph.earnings.mutations import EarningsMutation
from graph.earnings.subscriptions import EarningsSubscription
from graph.errors import MaskUnexpectedErrors
from graph.extensions import UnitOfWorkExtension
from graph.family.mutations import FamilyMutation
from graph.family.subscriptions import FamilySubscription
from graph.fastpath import FastExecutor
from graph.node import resolve_node
from graph.notifications.mutations import NotificationsMutation
from graph.notifications.subscriptions import NotificationsSubscription
from graph.settle import install as settle_siblings

log = logging.getLogger(__name__)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000
LIMIT_RULES = [
    query_depth_limiter.create_validator(MAX_DEPTH, should_ignore=None),
    max_aliases.create_validator(MAX_ALIASES),
]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID, or null when it is missing or not yours.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return await resolve_node(info, id)


# Each domain contributes its own root types; listed here explicitly, in product order.
QUERIES: tuple[type, ...] = (NodeQuery, AccountsQuery)
MUTATIONS: tuple[type, ...] = (
    SignInMutation, AccountMutation, NotificationsMutation, FamilyMutation, EarningsMutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (NotificationsSubscription, FamilySubscription, EarningsSubscription)


class TallySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Client mistakes are not server errors: MaskUnexpectedErrors logs the real failures.
        for error in errors:
            log.debug("client error: %s", error.message)


def build_schema(production: bool = False, fast_path: bool = True) -> strawberry.Schema:
    settle_siblings()
    # Factories: a fresh extension per request (the parse/validation caches are shared anyway).
    # The depth and alias rules are built once: strawberry's limiters build new rule classes per
    # instance, which would make every request's validation-cache key new (never a hit) and
    # cost each live subscription a few KiB.
    extensions: list = [
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        MaskUnexpectedErrors,
        UnitOfWorkExtension,
    ]
    if production:
        extensions.append(DisableIntrospection)
    return TallySchema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS) if MUTATIONS else None,
        subscription=merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None,
        extensions=extensions,
        # Queries run from compiled plans where they can (graph.fastpath); graphql-core runs the rest.
        execution_context_class=FastExecutor if fast_path else None,
        config=StrawberryConfig(disable_field_suggestions=production, relay_max_results=100),
    )
