"""Risk control, for admins: the rules and the queue of held earnings."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.types.enums import describe_values
from api.types.ids import encode_id
from domain import risk as dr

strawberry.enum(
    dr.RiskAction,
    name="RiskAction",
    description="What a rule does when it fires: ALLOW (the rule is off), HOLD (the points wait in the "
    "member's review balance for an admin), REFUSE (nothing changes).",
)
describe_values(
    dr.RiskAction,
    {
        dr.RiskAction.ALLOW: "The rule is off: the movement goes through.",
        dr.RiskAction.HOLD: "The points wait in the member's review balance for an admin.",
        dr.RiskAction.REFUSE: "The movement is refused; nothing changes.",
    },
)
RiskAction = dr.RiskAction
strawberry.enum(
    dr.RuleKind,
    name="RiskRuleKind",
    description="What a rule looks at: PURCHASE_AMOUNT (one purchase's amount in a currency), "
    "MERCHANT_DAILY_POINTS (points a merchant issued today, UTC), MEMBER_VELOCITY (a member's "
    "purchases in a fixed window), MEMBER_DAILY_POINTS (points a member earned today), "
    "ABOVE_OWN_HISTORY (an amount above a multiple of the member's average ticket), EARN_AND_BURN "
    "(redeeming within a window after a large earning), TRANSFER_FAN_IN (members who gave one member "
    "points today).",
)
describe_values(
    dr.RuleKind,
    {
        dr.RuleKind.PURCHASE_AMOUNT: "One purchase's amount in a currency, in minor units.",
        dr.RuleKind.MERCHANT_DAILY_POINTS: "Points a merchant's purchases issued today (UTC).",
        dr.RuleKind.MEMBER_VELOCITY: "A member's purchases in the current window.",
        dr.RuleKind.MEMBER_DAILY_POINTS: "Points a member's purchases earned today (UTC).",
        dr.RuleKind.ABOVE_OWN_HISTORY: "An amount above a multiple of the member's own average ticket.",
        dr.RuleKind.EARN_AND_BURN: "A redemption within a window after an earning above the limit.",
        dr.RuleKind.TRANSFER_FAN_IN: "Members who gave one member points today.",
    },
)
RiskRuleKind = dr.RuleKind
strawberry.enum(
    dr.ReviewStatus,
    name="RiskReviewStatus",
    description="OPEN: waiting for an admin; APPROVED: the points became available; REJECTED: they "
    "went back to who issued them.",
)
describe_values(
    dr.ReviewStatus,
    {
        dr.ReviewStatus.OPEN: "Waiting for an admin.",
        dr.ReviewStatus.APPROVED: "Approved: the points became available.",
        dr.ReviewStatus.REJECTED: "Rejected: the points went back to who issued them.",
    },
)
RiskReviewStatus = dr.ReviewStatus


@strawberry.type(description="A risk rule and its thresholds.")
class RiskRule:
    id: relay.GlobalID = strawberry.field(description="The rule's id.")
    kind: RiskRuleKind = strawberry.field(description="What the rule looks at.")
    action: RiskAction = strawberry.field(description="What happens when it fires; ALLOW: the rule is off.")
    limit: int = strawberry.field(
        description="It fires above this (exactly at it is allowed): minor units for PURCHASE_AMOUNT, "
        "points for the points rules and EARN_AND_BURN's earning, a count for MEMBER_VELOCITY and "
        "TRANSFER_FAN_IN, the multiple of the average ticket for ABOVE_OWN_HISTORY."
    )
    window_minutes: int = strawberry.field(
        description="MEMBER_VELOCITY and EARN_AND_BURN: the window looked back on; 0 otherwise."
    )
    currency: str | None = strawberry.field(
        description="PURCHASE_AMOUNT: the currency limited; ABOVE_OWN_HISTORY: only this one (null: any)."
    )
    min_history: int = strawberry.field(
        description="ABOVE_OWN_HISTORY: purchases the member needs in the currency before it applies."
    )
    description: str = strawberry.field(description="What the rule is for, in a few words.")

    @classmethod
    def from_domain(cls, r: dr.RiskRule) -> RiskRule:
        return cls(
            id=encode_id("RiskRule", r.id),
            kind=r.kind,
            action=r.action,
            limit=r.limit,
            window_minutes=r.window_minutes,
            currency=r.currency,
            min_history=r.min_history,
            description=r.description,
        )


@strawberry.type(description="A rule that fired, with the figure behind it, as recorded with the decision.")
class RiskRuleOutcome:
    rule_id: relay.GlobalID = strawberry.field(description="The rule that fired.")
    kind: RiskRuleKind = strawberry.field(description="What it looks at.")
    action: RiskAction = strawberry.field(description="What it did.")
    figure: int = strawberry.field(description="The figure it saw, this movement counted.")
    limit: int = strawberry.field(description="Its limit at the time.")
    reason: str = strawberry.field(description="The same, in words.")

    @classmethod
    def from_domain(cls, o: dr.RuleOutcome) -> RiskRuleOutcome:
        return cls(
            rule_id=encode_id("RiskRule", o.rule_id),
            kind=o.kind,
            action=o.action,
            figure=o.figure,
            limit=o.limit,
            reason=o.reason,
        )


@strawberry.type(description="An earning a risk rule held: its points wait in the member's review balance.")
class RiskReview:
    id: relay.GlobalID = strawberry.field(description="The review's id.")
    member_id: relay.GlobalID = strawberry.field(description="The member who earned the points.")
    purchase_id: relay.GlobalID = strawberry.field(description="The purchase that earned them.")
    merchant_id: relay.GlobalID = strawberry.field(description="The merchant that posted it.")
    points: int = strawberry.field(description="The points held.")
    status: RiskReviewStatus = strawberry.field(description="Where the review stands.")
    outcomes: list[RiskRuleOutcome] = strawberry.field(description="The rules that held it, and why.")
    created_at: datetime = strawberry.field(description="When the earning was held.")
    decided_at: datetime | None = strawberry.field(description="When an admin approved or rejected it.")
    decided_by: str | None = strawberry.field(description="The admin who decided (the token's subject).")

    @classmethod
    def from_domain(cls, r: dr.RiskReview) -> RiskReview:
        return cls(
            id=encode_id("RiskReview", r.id),
            member_id=encode_id("Member", r.member_id),
            purchase_id=encode_id("Purchase", r.purchase_id),
            merchant_id=encode_id("Merchant", r.merchant_id),
            points=r.points,
            status=r.status,
            outcomes=[RiskRuleOutcome.from_domain(o) for o in r.outcomes],
            created_at=r.created_at,
            decided_at=r.decided_at,
            decided_by=r.decided_by,
        )
