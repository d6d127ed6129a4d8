"""Triggered campaigns and notification figures, for admins (README, "Notifications and triggered
campaigns")."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.types.enums import MerchantCategory, describe_values
from api.types.ids import encode_id
from domain import notifications as dn
from domain import triggers as dt

strawberry.enum(dt.TriggerStatus, name="TriggerStatus", description="Whether a trigger fires.")
describe_values(
    dt.TriggerStatus,
    {
        dt.TriggerStatus.ACTIVE: "It fires on matching events.",
        dt.TriggerStatus.PAUSED: "Events go by without firing it; resumeTrigger turns it back on.",
    },
)
TriggerStatus = dt.TriggerStatus
strawberry.enum(
    dt.ConditionKind, name="TriggerConditionKind", description="What a trigger's condition tests."
)
describe_values(
    dt.ConditionKind,
    {
        dt.ConditionKind.IN_SEGMENT: "The member is in the segment (segmentId), as last refreshed.",
        dt.ConditionKind.PURCHASE_CATEGORY: "The purchase's merchant is in the category (purchase.posted).",
        dt.ConditionKind.FIRST_IN_CATEGORY: "The member's first purchase in the category.",
        dt.ConditionKind.BALANCE_CROSSES: "The purchase took available points up to threshold or past it.",
    },
)
TriggerConditionKind = dt.ConditionKind
strawberry.enum(dt.ActionKind, name="TriggerActionKind", description="What a trigger does when it fires.")
describe_values(
    dt.ActionKind,
    {
        dt.ActionKind.ISSUE_COUPON: "A single-use coupon of the offer (offerId) in the member's wallet.",
        dt.ActionKind.AWARD_POINTS: "The offer's points (a CAMPAIGN offer), within its budget and caps.",
        dt.ActionKind.NOTIFY: "A notification.requested event (marketing rules apply).",
    },
)
TriggerActionKind = dt.ActionKind
strawberry.enum(dn.NotificationKind, name="NotificationKind", description="What a notification is about.")
describe_values(
    dn.NotificationKind,
    {
        dn.NotificationKind.POINTS_EXPIRING: "SERVICE: points expire within expiryNoticeDays.",
        dn.NotificationKind.TIER_CHANGED: "SERVICE: the member's tier changed.",
        dn.NotificationKind.OFFER_RECOMMENDED: "MARKETING: an offer or reward suggested by a trigger.",
        dn.NotificationKind.CAMPAIGN: "MARKETING: any other message a trigger sends.",
    },
)
NotificationKind = dn.NotificationKind
strawberry.enum(
    dn.SuppressReason, name="NotificationSuppressReason", description="Why a notice was not emitted."
)
describe_values(
    dn.SuppressReason,
    {
        dn.SuppressReason.NO_CONSENT: "Marketing to a member without marketing consent.",
        dn.SuppressReason.QUIET_HOURS: "Marketing inside the member's quiet hours (its own time zone).",
        dn.SuppressReason.WEEKLY_CAP: "Marketing past the programme's marketingPerWeek.",
        dn.SuppressReason.NOT_ACTIVE: "The member is locked, closed or erased.",
    },
)
NotificationSuppressReason = dn.SuppressReason


@strawberry.type(description="One test of a trigger's condition; all of them must hold (ADMIN).")
class TriggerCondition:
    kind: TriggerConditionKind = strawberry.field(description="What it tests.")
    segment_id: relay.GlobalID | None = strawberry.field(description="IN_SEGMENT: the segment.")
    category: MerchantCategory | None = strawberry.field(description="The category of the category tests.")
    threshold: int | None = strawberry.field(description="BALANCE_CROSSES: the points it crosses.")


@strawberry.type(description="One thing a trigger does when it fires (ADMIN).")
class TriggerAction:
    kind: TriggerActionKind = strawberry.field(description="What it does.")
    offer_id: relay.GlobalID | None = strawberry.field(description="The offer it gives from, or suggests.")
    template: str | None = strawberry.field(description="NOTIFY: the push gateway's template key.")
    notification: NotificationKind = strawberry.field(description="NOTIFY: the notification's kind.")


@strawberry.type(
    description="When an event of eventType comes and every condition holds, do the actions (ADMIN)."
)
class Trigger:
    id: relay.GlobalID = strawberry.field(description="The trigger's id.")
    name: str = strawberry.field(description="What it is for.")
    event_type: str = strawberry.field(description="The event type it reacts to (the README's catalogue).")
    conditions: list[TriggerCondition] = strawberry.field(description="All must hold; none: every event.")
    actions: list[TriggerAction] = strawberry.field(description="Done in order, once per event.")
    status: TriggerStatus = strawberry.field(description="Whether it fires.")
    created_at: datetime = strawberry.field(description="When it was made.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_domain(cls, t: dt.Trigger) -> Trigger:
        return cls(
            id=encode_id("Trigger", t.id),
            name=t.name,
            event_type=t.event_type.value,
            conditions=[
                TriggerCondition(
                    kind=c.kind,
                    segment_id=None if c.segment_id is None else encode_id("Segment", c.segment_id),
                    category=c.category,
                    threshold=c.threshold,
                )
                for c in t.conditions
            ],
            actions=[
                TriggerAction(
                    kind=a.kind,
                    offer_id=None if a.offer_id is None else encode_id("Offer", a.offer_id),
                    template=a.template,
                    notification=a.notification,
                )
                for a in t.actions
            ],
            status=t.status,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


@strawberry.type(description="How many notices one rule stopped, by kind (ADMIN).")
class NotificationSuppression:
    kind: NotificationKind = strawberry.field(description="The notices' kind.")
    reason: NotificationSuppressReason = strawberry.field(description="The rule that stopped them.")
    count: int = strawberry.field(description="How many, since the time asked.")
