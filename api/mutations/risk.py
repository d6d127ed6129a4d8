"""Risk control for admins: the rules (riskRules, updateRiskRule) and the review queue (riskReviews,
approveRiskReview, rejectRiskReview). Every change is audited; decisions are idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError, bad_input
from api.mutations.payload import retrying, run_use_case
from api.permissions import ADMIN
from api.types.ids import decode_id, try_decode_id
from api.types.pagination import After, First, connection
from api.types.risk import RiskAction, RiskReview, RiskReviewStatus, RiskRule
from domain import commands
from domain.actors import Actor
from domain.clock import Clock
from domain.ports import UnitOfWork
from domain.results import RiskReviewResult
from domain.risk import RiskReview as DomainReview
from domain.risk import RiskRule as DomainRule
from domain.services.risk import decide_risk_review, update_risk_rule


@strawberry.input(description="Narrows the review queue; omitted fields do not filter.")
class RiskReviewFilter:
    status: RiskReviewStatus | None = strawberry.field(
        default=None, description="Only reviews in this status."
    )
    member_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this member's reviews (a Member id)."
    )


@strawberry.input(
    description="A rule's new settings; omitted ones stay as they are. Applies from the next movement."
)
class UpdateRiskRuleInput:
    rule_id: relay.GlobalID = strawberry.field(description="The rule to change.")
    action: RiskAction | None = strawberry.field(
        default=None, description="ALLOW switches the rule off; HOLD only for rules on earning."
    )
    limit: int | None = strawberry.field(default=None, description="The new limit, as RiskRule.limit.")
    window_minutes: int | None = strawberry.field(
        default=None, description="MEMBER_VELOCITY and EARN_AND_BURN: 1 to 1440 minutes."
    )
    currency: str | None = strawberry.field(default=None, description="The currency, as RiskRule.currency.")
    min_history: int | None = strawberry.field(
        default=None, description="ABOVE_OWN_HISTORY: purchases needed before it applies."
    )
    description: str | None = strawberry.field(default=None, description="What the rule is for.")


@strawberry.type(description="The rule as it now stands, or why nothing changed.")
class UpdateRiskRulePayload:
    rule: RiskRule | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Make a held earning's points available to the member.")
class ApproveRiskReviewInput:
    review_id: relay.GlobalID = strawberry.field(description="The OPEN review.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The review approved, or why nothing changed.")
class ApproveRiskReviewPayload:
    review: RiskReview | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Take a held earning's points back to whoever issued them.")
class RejectRiskReviewInput:
    review_id: relay.GlobalID = strawberry.field(description="The OPEN review.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The review rejected, or why nothing changed.")
class RejectRiskReviewPayload:
    review: RiskReview | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class RiskQueries:
    @strawberry.field(
        permission_classes=ADMIN, description="The risk rules and their thresholds, by id (ADMIN)."
    )
    async def risk_rules(self, info: Info) -> list[RiskRule]:
        async def read() -> tuple[DomainRule, ...]:
            async with info.context.read_uow_factory() as uow:
                return await uow.risk.rules()

        return [RiskRule.from_domain(r) for r in await retrying(info, read)]

    @strawberry.field(permission_classes=ADMIN, description="Earnings risk rules held, newest first (ADMIN).")
    async def risk_reviews(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            RiskReviewFilter | None,
            strawberry.argument(description="Narrows the queue; omitted: every review."),
        ] = None,
    ) -> relay.Connection[RiskReview]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        status = None if filter is None else filter.status
        member_id = None
        if filter is not None and filter.member_id is not None:
            member_id = try_decode_id(filter.member_id, "Member")
            if member_id is None:
                raise bad_input("`memberId` is not a member's id")

        async def fetch(before: int | None, limit: int) -> list[DomainReview]:
            async def read() -> list[DomainReview]:
                async with info.context.read_uow_factory() as uow:
                    return await uow.risk.review_page(status, before, limit, member_id)

            return await retrying(info, read)

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda r: r.id, node=RiskReview.from_domain
        )


@strawberry.type
class RiskMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Change a risk rule's action or thresholds; audited (ADMIN)."
    )
    async def update_risk_rule(
        self,
        info: Info,
        input: Annotated[
            UpdateRiskRuleInput, strawberry.argument(description="The rule and its new settings.")
        ],
    ) -> UpdateRiskRulePayload:
        def command() -> commands.UpdateRiskRule:
            return commands.UpdateRiskRule(
                rule_id=decode_id(input.rule_id, "RiskRule", "ruleId"),
                action=None if input.action is None else input.action.value,
                limit=input.limit,
                window_minutes=input.window_minutes,
                currency=input.currency,
                min_history=input.min_history,
                description=input.description,
            )

        rule, errors = await run_use_case(
            info, lambda actor, uow, clock: update_risk_rule(command(), actor=actor, uow=uow, clock=clock)
        )
        return UpdateRiskRulePayload(rule=None if rule is None else RiskRule.from_domain(rule), errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Approve a held earning: its points become available; audited, idempotent (ADMIN).",
    )
    async def approve_risk_review(
        self,
        info: Info,
        input: Annotated[ApproveRiskReviewInput, strawberry.argument(description="The review to approve.")],
    ) -> ApproveRiskReviewPayload:
        result, errors = await run_use_case(info, _decide(input.review_id, True, input.idempotency_key))
        return ApproveRiskReviewPayload(
            review=None if result is None else RiskReview.from_domain(result.review()), errors=errors
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Reject a held earning: its points go back to who issued them; audited, idempotent "
        "(ADMIN).",
    )
    async def reject_risk_review(
        self,
        info: Info,
        input: Annotated[RejectRiskReviewInput, strawberry.argument(description="The review to reject.")],
    ) -> RejectRiskReviewPayload:
        result, errors = await run_use_case(info, _decide(input.review_id, False, input.idempotency_key))
        return RejectRiskReviewPayload(
            review=None if result is None else RiskReview.from_domain(result.review()), errors=errors
        )


def _decide(
    review_id: relay.GlobalID, approve: bool, idempotency_key: str
) -> Callable[[Actor, UnitOfWork, Clock], Awaitable[RiskReviewResult]]:
    async def use_case(actor: Actor, uow: UnitOfWork, clock: Clock) -> RiskReviewResult:
        command = commands.DecideRiskReview(
            decode_id(review_id, "RiskReview", "reviewId"), approve, idempotency_key
        )
        return await decide_risk_review(command, actor=actor, uow=uow, clock=clock)

    return use_case
