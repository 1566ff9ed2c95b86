"""The execution fast path: compiled plans for queries, graphql-core for everything else.

`FastExecutor` is graphql-core's executor (strawberry's subclass of it) with one change: a
query whose plan compiles runs through `run_plan`; any other operation, or a query the plan
cannot answer exactly, runs through graphql-core unchanged. Strawberry's extensions (parser
and validation caches, limits, error masking, the unit of work) wrap both alike, since they
sit above the executor.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.fastpath.executor import run_plan
from graph.fastpath.plan import Ineligible, OperationPlan, compile_operation, document_key

log = logging.getLogger(__name__)

PLAN_CACHE_SIZE = 512
OUTCOMES = Counter(
    "tally_graphql_fast_path_total",
    "Operations by how they ran: fast (compiled plan), fallback (plan abandoned, graphql-core "
    "reran it), general (not eligible: graphql-core only).",
    ["outcome"],
)


@dataclass
class FastPathStats:
    """Per-schema counts, for tests and benchmarks (Prometheus has the process-wide ones)."""

    fast: int = 0
    fallback: int = 0
    general: int = 0


class _PlanCache:
    """Plans by operation text, LRU; an ineligible operation is remembered as such."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self.plans: OrderedDict[tuple[str, int], OperationPlan | None] = OrderedDict()
        self.stats = FastPathStats()

    def plan_for(self, executor: Any) -> OperationPlan | None:
        key = document_key(executor.operation)
        if key is not None and key in self.plans:
            self.plans.move_to_end(key)
            return self.plans[key]
        try:
            plan: OperationPlan | None = compile_operation(
                executor.schema, executor.fragments, executor.variable_values, executor.operation,
                executor.fragment_definitions,
            )
        except Ineligible as reason:
            log.debug("fast path: not eligible: %s", reason)
            plan = None
        if key is not None:
            self.plans[key] = plan
            if len(self.plans) > self.size:
                self.plans.popitem(last=False)
        return plan


def plan_cache(graphql_schema: Any) -> _PlanCache:
    """The schema's plan cache (plans hold the schema's own type and field objects)."""
    cache = graphql_schema.__dict__.get("_tally_plan_cache")
    if cache is None:
        cache = graphql_schema.__dict__["_tally_plan_cache"] = _PlanCache()
    return cache


def fast_path_stats(schema: Any) -> FastPathStats:
    """The counts for a strawberry schema built with the fast path."""
    return plan_cache(schema._schema).stats


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        cache = plan_cache(self.schema)
        plan = None
        if not serially and self.abort_signal is None and self.hooks is None and not self._has_middleware():
            plan = cache.plan_for(self)
        if plan is None:
            cache.stats.general += 1
            OUTCOMES.labels("general").inc()
            return super().execute_operation(serially)
        return self._run_fast(plan, cache, serially)

    async def _run_fast(self, plan: OperationPlan, cache: _PlanCache, serially: bool | None) -> Any:
        try:
            data = await run_plan(self, plan.root, self.root_value)
        except Exception as reason:  # a resolver's error, or a Fallback: graphql-core answers exactly
            cache.stats.fallback += 1
            OUTCOMES.labels("fallback").inc()
            log.debug("fast path: fell back: %s", reason)
            # The rerun starts as a first run would: with empty dataloaders, graphql-core makes
            # the same calls in the same order, so even the order of its errors is the same.
            forget_loaded = getattr(self.context_value, "forget_loaded", None)
            if forget_loaded is not None:
                forget_loaded()
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        cache.stats.fast += 1
        OUTCOMES.labels("fast").inc()
        return self.build_response(data)

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)
