"""What a request may cost and how long it may run, decided before and around its execution.

The cost is an estimate of the objects an operation makes the server build, read from the document
with the schema's types and the request's variables, before anything runs:

- an object (a node, an edge, a payload, a connection, pageInfo) costs 1; a scalar costs nothing
  unless an async resolver computes it (a loader or a query), which costs 1;
- a list multiplies what each item costs: a connection's lists by its page size (`first`, literal
  or from a variable, as `api/types/pagination.page_size` caps it; the default page without one),
  other lists by `UNPAGED_LIST_SIZE`;
- each mutation field costs `WRITE_COST` (a transaction) plus what its payload selects;
- every alias and every fragment spread is counted where it is used; introspection is free (it
  reads the schema in memory, and INTROSPECTION=false turns it off in production).

Fragments on types that exclude each other (`... on Transfer`, `... on Purchase`) are all counted,
as if every one of them matched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.graphql import OperationType

from api.context import Context
from api.settings import CostBudgets
from api.types.pagination import DEFAULT_PAGE, page_size
from domain.actors import Actor, Role

logger = logging.getLogger("loyalty.api")

OBJECT_COST = 1
ASYNC_SCALAR_COST = 1
WRITE_COST = 10
UNPAGED_LIST_SIZE = 10  # lists without `first`: errors, coupons, applied offers, tiers ...


def budget_for(budgets: CostBudgets, actor: Actor | None) -> int:
    if actor is None:
        return budgets.anonymous
    return {
        Role.MEMBER: budgets.member,
        Role.MERCHANT: budgets.merchant,
        Role.PARTNER: budgets.partner,
        Role.PROCESSOR: budgets.merchant,  # an integration like a merchant's
        Role.ADMIN: budgets.admin,
    }[actor.role]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int | None:
    """The estimated cost of the operation, or None when there is no such operation or its variables
    do not fit their types (execution then refuses the request itself, and runs nothing)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Estimate(schema, fragments, coerced.coerced).selections(operation.selection_set, root, None)


class _Estimate:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        # A fragment costs the same wherever it is spread with the same page size: computing it once
        # keeps this linear in the document, even for fragments that spread others many times.
        self.fragment_costs: dict[tuple[str, int | None], int] = {}

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None
    ) -> int:
        """`page`: the page size of the connection whose selection this is, for the lists it holds."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key not in self.fragment_costs:
            definition = self.fragments.get(name)
            target = self.schema.get_type(definition.type_condition.name.value) if definition else None
            # Validation has refused cycles, so the recursion ends; 0 guards it anyway.
            self.fragment_costs[key] = 0
            if definition is not None and target is not None:
                self.fragment_costs[key] = self.selections(definition.selection_set, target, page)
        return self.fragment_costs[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:  # validation has refused unknown fields already
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return ASYNC_SCALAR_COST if _is_async(definition) else 0
        own = WRITE_COST if parent is self.schema.mutation_type else OBJECT_COST
        each = own + self.selections(node.selection_set, named, self._page(definition, node))
        if not _is_list(definition.type):
            return each
        return each * (page if page is not None else UNPAGED_LIST_SIZE)

    def _page(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The page size of a connection field (one with `first`), as the connection code applies it."""
        if "first" not in definition.args:
            return None
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        first = value_from_ast(argument.value, GraphQLInt, self.variables) if argument else None
        if not isinstance(first, int):
            return DEFAULT_PAGE
        # A negative `first` is refused when the field runs; nothing is read for it.
        return page_size(max(first, 0))


def _is_list(type_: GraphQLType) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_async(definition: GraphQLField) -> bool:
    field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return bool(getattr(field, "is_async", False))


def too_costly(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"This request would cost {cost}, over the budget of {budget} per request: ask for smaller "
        "pages, fewer nested connections or fewer aliases.",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": budget},
    )


def timed_out(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"The request ran longer than {seconds:g} s and was cancelled.",
        extensions={"code": "TIMEOUT", "seconds": seconds},
    )


class QueryLimits(SchemaExtension):
    """Refuses an operation over its caller's cost budget before it runs, and cancels a query that
    runs past `timeout_seconds`.

    Mutations get no time limit: their unit of work commits inside the resolver, and a cancellation
    that landed on the commit would leave the client not knowing whether its write happened (the
    write may have committed all the same). Limiting only the payload read after the commit would
    answer TIMEOUT for a write that did happen, which is no better. What bounds a mutation is its
    cost, which counts the payload it reads.
    """

    def __init__(self, *, budgets: CostBudgets, timeout_seconds: float) -> None:
        self.budgets = budgets
        self.timeout_seconds = timeout_seconds

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        actor = context.actor if isinstance(context, Context) else None
        request_id = context.request_id if isinstance(context, Context) else "-"
        budget = budget_for(self.budgets, actor)
        assert execution.graphql_document is not None  # parsed and validated before execution
        cost = operation_cost(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
        )
        if cost is not None and cost > budget:
            logger.info("request_id=%s refused: cost %d over budget %d", request_id, cost, budget)
            # A result set before execution replaces it: no resolver runs.
            execution.result = ExecutionResult(data=None, errors=[too_costly(cost, budget)])
            yield
            return
        if execution.operation_type is not OperationType.QUERY:
            yield
            return
        deadline = asyncio.timeout(self.timeout_seconds)
        try:
            async with deadline:
                yield
        except TimeoutError:
            if not deadline.expired():
                raise
            logger.warning("request_id=%s query cancelled after %g s", request_id, self.timeout_seconds)
            raise timed_out(self.timeout_seconds) from None
