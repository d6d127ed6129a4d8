"""Triggered campaigns (場景營銷): "when an event of type X comes and condition C holds, do A".

A trigger reacts to one event type from the outbox. Its condition is a conjunction of typed tests
over the event and the member (no free-form expressions): the member is in a segment (the segments'
materialised membership, domain/segments.py), the purchase's merchant category, a first purchase in a
category, the available balance crossing a threshold. Its actions: give the member a coupon of an
offer, award an offer's points (within the offer's budget and caps, as any bonus), or send a
notification (marketing: consent, quiet hours and the weekly cap apply, domain/notifications.py).

Each (trigger, event) takes effect at most once: the consumer records the firing under a unique key
in the transaction that makes the effect (domain/services/triggers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import Validation
from domain.events import EventType
from domain.merchants import MerchantCategory
from domain.notifications import NotificationKind

MAX_CONDITIONS = 10
MAX_ACTIONS = 3
PURCHASE_EVENTS = frozenset({EventType.PURCHASE_POSTED})


class TriggerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


class ConditionKind(StrEnum):
    IN_SEGMENT = "IN_SEGMENT"  # the member is in the segment (segment_id)
    PURCHASE_CATEGORY = "PURCHASE_CATEGORY"  # the purchase's merchant is in the category
    FIRST_IN_CATEGORY = "FIRST_IN_CATEGORY"  # ... and the member never bought in it before
    BALANCE_CROSSES = "BALANCE_CROSSES"  # the purchase took the available balance from below to at/above


class ActionKind(StrEnum):
    ISSUE_COUPON = "ISSUE_COUPON"  # a single-use coupon of the offer, in the member's wallet
    AWARD_POINTS = "AWARD_POINTS"  # the offer's points, from its budget, within its caps
    NOTIFY = "NOTIFY"  # a notification.requested event (marketing rules apply)


class Outcome(StrEnum):
    DONE = "DONE"
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"  # an award the offer's budget refused
    LIMIT_REACHED = "LIMIT_REACHED"  # an award the offer's caps refused
    OFFER_NOT_LIVE = "OFFER_NOT_LIVE"
    SUPPRESSED = "SUPPRESSED"  # a notification the member's settings stopped


@dataclass(frozen=True, slots=True)
class Condition:
    kind: ConditionKind
    segment_id: int | None = None
    category: MerchantCategory | None = None
    threshold: int | None = None


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    offer_id: int | None = None
    template: str | None = None  # NOTIFY: the gateway's template key
    notification: NotificationKind = NotificationKind.CAMPAIGN


@dataclass(frozen=True, slots=True)
class Trigger:
    id: int
    name: str
    event_type: EventType
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    status: TriggerStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Facts:
    """What the conditions read: the event's, and the member's when it was processed."""

    segments: frozenset[int]
    category: MerchantCategory | None = None  # purchase events: the merchant's
    earlier_in_category: int = 0  # purchases the member made in `category` before this one
    # The member's available points either side of the event (purchase.posted: its journal entries,
    # read from the ledger, so a replay sees the same figures); equal when the event moved none.
    available_before: int = 0
    available_after: int = 0


def holds(condition: Condition, facts: Facts) -> bool:
    match condition.kind:
        case ConditionKind.IN_SEGMENT:
            return condition.segment_id in facts.segments
        case ConditionKind.PURCHASE_CATEGORY:
            return facts.category is condition.category
        case ConditionKind.FIRST_IN_CATEGORY:
            return facts.category is condition.category and facts.earlier_in_category == 0
        case ConditionKind.BALANCE_CROSSES:
            assert condition.threshold is not None
            return facts.available_before < condition.threshold <= facts.available_after


def matches(trigger: Trigger, facts: Facts) -> bool:
    return all(holds(c, facts) for c in trigger.conditions)


def needs_purchase(trigger: Trigger) -> bool:
    return any(
        c.kind in (ConditionKind.PURCHASE_CATEGORY, ConditionKind.FIRST_IN_CATEGORY)
        for c in trigger.conditions
    )


def validated(
    name: str, event_type: EventType, conditions: tuple[Condition, ...], actions: tuple[Action, ...]
) -> None:
    """Raise Validation (with the input's path) on a trigger that cannot work."""
    if not name.strip() or len(name) > 120:
        raise Validation("a name of 1 to 120 characters", ("name",))
    if len(conditions) > MAX_CONDITIONS:
        raise Validation(f"at most {MAX_CONDITIONS} conditions", ("conditions",))
    if not 1 <= len(actions) <= MAX_ACTIONS:
        raise Validation(f"1 to {MAX_ACTIONS} actions", ("actions",))
    for i, c in enumerate(conditions):
        path = ("conditions", str(i))
        if c.kind is ConditionKind.IN_SEGMENT and c.segment_id is None:
            raise Validation("IN_SEGMENT needs a segmentId", (*path, "segmentId"))
        if c.kind in (ConditionKind.PURCHASE_CATEGORY, ConditionKind.FIRST_IN_CATEGORY):
            if c.category is None:
                raise Validation(f"{c.kind.value} needs a category", (*path, "category"))
            if event_type not in PURCHASE_EVENTS:
                raise Validation(f"{c.kind.value} applies to purchase.posted only", (*path, "kind"))
        if c.kind is ConditionKind.BALANCE_CROSSES:
            if c.threshold is None or c.threshold <= 0:
                raise Validation("BALANCE_CROSSES needs a positive threshold", (*path, "threshold"))
            if event_type not in PURCHASE_EVENTS:
                raise Validation("BALANCE_CROSSES applies to purchase.posted only", (*path, "kind"))
    for i, a in enumerate(actions):
        path = ("actions", str(i))
        if a.kind in (ActionKind.ISSUE_COUPON, ActionKind.AWARD_POINTS) and a.offer_id is None:
            raise Validation(f"{a.kind.value} needs an offerId", (*path, "offerId"))
        if a.kind is ActionKind.NOTIFY:
            if not a.template or len(a.template) > 60:
                raise Validation("NOTIFY needs a template key of 1 to 60 characters", (*path, "template"))
            if a.notification.category.value != "MARKETING":
                raise Validation("a trigger sends marketing notifications only", (*path, "notification"))


# Stored form (JSON): plain dicts, read back strictly.


def conditions_to_json(conditions: tuple[Condition, ...]) -> list[dict[str, object]]:
    return [
        {
            "kind": c.kind.value,
            "segmentId": c.segment_id,
            "category": c.category.value if c.category else None,
            "threshold": c.threshold,
        }
        for c in conditions
    ]


def conditions_from_json(data: list[dict[str, object]]) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            ConditionKind(str(d["kind"])),
            segment_id=_int(d.get("segmentId")),
            category=MerchantCategory(str(d["category"])) if d.get("category") else None,
            threshold=_int(d.get("threshold")),
        )
        for d in data
    )


def actions_to_json(actions: tuple[Action, ...]) -> list[dict[str, object]]:
    return [
        {
            "kind": a.kind.value,
            "offerId": a.offer_id,
            "template": a.template,
            "notification": a.notification.value,
        }
        for a in actions
    ]


def actions_from_json(data: list[dict[str, object]]) -> tuple[Action, ...]:
    return tuple(
        Action(
            ActionKind(str(d["kind"])),
            offer_id=_int(d.get("offerId")),
            template=str(d["template"]) if d.get("template") else None,
            notification=NotificationKind(str(d.get("notification") or NotificationKind.CAMPAIGN.value)),
        )
        for d in data
    )


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))
