"""The strawberry schema with its limits: depth, tokens, aliases, cost and time, masked errors, cached
parsing."""

from __future__ import annotations

import importlib
from typing import Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import TracerProvider
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.context import Context
from api.cost import QueryLimits
from api.errors import code_unavailable, is_unexpected, log_errors
from api.field_policy import guard_schema
from api.issued_ids import IssuedIdLiterals, IssuedIdVariables
from api.metrics import OperationMetrics
from api.mutations.account import AccountMutations
from api.mutations.admin import AdminMutations
from api.mutations.fulfilment import FulfilmentMutations
from api.mutations.guards import GuardMutations, GuardQueries
from api.mutations.links import LinkMutations
from api.mutations.members import MemberMutations
from api.mutations.offers import OfferMutations, OfferQueries
from api.mutations.pos import PosMutations
from api.mutations.profiles import ProfileMutations, ProfileQueries
from api.mutations.programme import ProgrammeMutations, ProgrammeQueries
from api.mutations.purchases import PurchaseMutations
from api.mutations.redemptions import RedemptionMutations
from api.mutations.refunds import RefundMutations
from api.mutations.risk import RiskMutations, RiskQueries
from api.mutations.segments import SegmentMutations, SegmentQueries
from api.mutations.tiers import TierMutations
from api.mutations.transfers import TransferMutations
from api.mutations.triggers import TriggerMutations, TriggerQueries
from api.mutations.vouchers import VoucherMutations
from api.mutations.webhooks import WebhookMutations, WebhookQueries
from api.operations import RequireOperationName
from api.queries import Query as QueryRoot
from api.settings import CostBudgets
from api.types.activity import Adjustment, Purchase, Redemption, Refund
from api.types.movements import Expiration, MemberAward, Transfer
from api.types.offers import Offer
from api.types.scalars import SCALARS
from api.types.statements import StatementQueries
from api.types.tiers import Tier


@strawberry.type(description="Changes, each answering with its own payload: errors, or the result.")
class Mutation(
    PurchaseMutations,
    RefundMutations,
    RedemptionMutations,
    MemberMutations,
    AdminMutations,
    OfferMutations,
    TransferMutations,
    ProgrammeMutations,
    TierMutations,
    PosMutations,
    FulfilmentMutations,
    LinkMutations,
    RiskMutations,
    ProfileMutations,
    SegmentMutations,
    VoucherMutations,
    AccountMutations,
    GuardMutations,
    WebhookMutations,
    TriggerMutations,
):
    pass


@strawberry.type(description="Reads; none of them changes anything.")
class Query(
    QueryRoot,
    ProgrammeQueries,
    OfferQueries,
    RiskQueries,
    ProfileQueries,
    SegmentQueries,
    StatementQueries,
    GuardQueries,
    WebhookQueries,
    TriggerQueries,
):
    pass


# No error message names what the schema holds ("Did you mean 'Member'?" for a type, an argument, an
# enum value or an input field): graphql-core adds every suggestion through did_you_mean, which gives
# none when its MAX_LENGTH is 0 (the package exports the function under the module's name, hence
# import_module). `disable_field_suggestions` below covers strawberry's own, for fields.
vars(importlib.import_module("graphql.pyutils.did_you_mean"))["MAX_LENGTH"] = 0


class LoyaltySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context else None
        code_unavailable(errors)
        log_errors(errors, context.request_id if isinstance(context, Context) else "-")


def build_schema(
    *,
    max_depth: int = 10,
    max_tokens: int = 2000,
    max_aliases: int = 15,
    introspection: bool = True,
    cost_budgets: CostBudgets | None = None,
    request_timeout_seconds: float = 10.0,
    tracer_provider: TracerProvider | None = None,
) -> strawberry.Schema:
    # The limiters' rule classes are built once: each limiter makes a new class when constructed,
    # and a new class per request would make every request miss the validation cache.
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        IssuedIdLiterals,
    ]
    budgets = cost_budgets or CostBudgets()
    # Factories, not instances: each request gets fresh extension objects (the caches are shared).
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        RequireOperationName,
        IssuedIdVariables,
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: QueryLimits(budgets=budgets, timeout_seconds=request_timeout_seconds),
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message="Unexpected error."),
        OperationMetrics,  # after MaskErrors: it counts the errors as the client gets them
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if tracer_provider is not None:
        extensions.append(lambda: OpenTelemetryExtension(tracer_provider=tracer_provider))
    schema = LoyaltySchema(
        query=Query,
        mutation=Mutation,
        types=[Purchase, Refund, Redemption, Adjustment, Offer, Tier, Transfer, Expiration, MemberAward],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True, relay_max_results=100, scalar_map=SCALARS),
    )
    guard_schema(schema._schema)  # what each role sees of each field (api/field_policy.py)
    return schema
