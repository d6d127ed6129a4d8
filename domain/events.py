"""Business events: what happened, written to the outbox in the transaction that caused it and
delivered from there (webhooks, NATS) after the commit.

An event carries ids and amounts, never personal data (no name, phone or email): a receiver that
needs more asks the API. Each type has a version; a payload changes shape only under a new version,
and each (type, version) has a JSON Schema in domain/event_schemas/ (README, "Events and webhooks").
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventType(StrEnum):
    PURCHASE_POSTED = "purchase.posted"
    POINTS_PENDING = "points.pending"
    POINTS_MATURED = "points.matured"
    POINTS_EXPIRED = "points.expired"
    POINTS_REFUNDED = "points.refunded"
    POINTS_ADJUSTED = "points.adjusted"
    POINTS_TRANSFERRED = "points.transferred"
    REDEMPTION_REQUESTED = "redemption.requested"
    REDEMPTION_HELD = "redemption.held"
    REDEMPTION_CAPTURED = "redemption.captured"
    REDEMPTION_VOIDED = "redemption.voided"
    REDEMPTION_FULFILLED = "redemption.fulfilled"
    REDEMPTION_CANCELLED = "redemption.cancelled"
    TIER_CHANGED = "tier.changed"
    OFFER_AWARDED = "offer.awarded"
    COUPON_ISSUED = "coupon.issued"
    MEMBER_DORMANT = "member.dormant"
    MEMBER_WOKEN = "member.woken"
    RISK_HELD = "risk.held"
    RISK_APPROVED = "risk.approved"
    RISK_REJECTED = "risk.rejected"
    BUDGET_WARNING = "budget.warning"
    BUDGET_EXHAUSTED = "budget.exhausted"
    MEMBER_NO_PURCHASE = "member.no_purchase"
    NOTIFICATION_REQUESTED = "notification.requested"


# The version each type is emitted at now.
VERSIONS: dict[EventType, int] = dict.fromkeys(EventType, 1)

# A budget warning when an award carries an offer's use of its budget across this share.
BUDGET_WARNING_PERCENT = 80


@dataclass(frozen=True, slots=True)
class Event:
    id: str  # stable and unique: the receivers' de-duplication key
    type: EventType
    version: int
    member_id: int | None  # delivery keeps each member's events in order
    occurred_at: datetime
    payload: dict[str, object]


def ordered_id(at: datetime) -> str:
    """A time-ordered UUID (the layout of version 7: 48 bits of Unix milliseconds, then random), so
    that the outbox's unique index takes new ids at its end rather than anywhere."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def event(type_: EventType, member_id: int | None, at: datetime, **payload: object) -> Event:
    return Event(ordered_id(at), type_, VERSIONS[type_], member_id, at, dict(payload))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


# Payload builders, one per type: the payload's fields are each builder's keywords.


def purchase_posted(
    *,
    member_id: int,
    purchase_id: int,
    merchant_id: int,
    amount_minor: int,
    currency: str,
    channel: str,
    points: int,
    pending: bool,
    held: bool,
    purchased_at: datetime,
    at: datetime,
) -> Event:
    return event(
        EventType.PURCHASE_POSTED,
        member_id,
        at,
        purchaseId=purchase_id,
        merchantId=merchant_id,
        amountMinor=amount_minor,
        currency=currency,
        channel=channel,
        points=points,
        pending=pending,
        held=held,
        purchasedAt=purchased_at.isoformat(),
    )


def points_pending(
    *, member_id: int, purchase_id: int, points: int, matures_at: datetime, at: datetime
) -> Event:
    return event(
        EventType.POINTS_PENDING,
        member_id,
        at,
        purchaseId=purchase_id,
        points=points,
        maturesAt=matures_at.isoformat(),
    )


def points_matured(*, member_id: int, purchase_id: int, points: int, at: datetime) -> Event:
    return event(EventType.POINTS_MATURED, member_id, at, purchaseId=purchase_id, points=points)


def points_expired(*, member_id: int, expiration_id: int, points: int, at: datetime) -> Event:
    return event(EventType.POINTS_EXPIRED, member_id, at, expirationId=expiration_id, points=points)


def points_refunded(
    *,
    member_id: int,
    refund_id: int,
    purchase_id: int,
    amount_minor: int,
    currency: str,
    points: int,
    debt: int,
    at: datetime,
) -> Event:
    return event(
        EventType.POINTS_REFUNDED,
        member_id,
        at,
        refundId=refund_id,
        purchaseId=purchase_id,
        amountMinor=amount_minor,
        currency=currency,
        points=points,
        debt=debt,
    )


def points_adjusted(*, member_id: int, adjustment_id: int, points: int, at: datetime) -> Event:
    return event(EventType.POINTS_ADJUSTED, member_id, at, adjustmentId=adjustment_id, points=points)


def points_transferred(
    *, member_id: int, transfer_id: int, sender_id: int, recipient_id: int, points: int, at: datetime
) -> Event:
    """One for each side: `member_id` is the member whose balance this event tells of."""
    return event(
        EventType.POINTS_TRANSFERRED,
        member_id,
        at,
        transferId=transfer_id,
        senderId=sender_id,
        recipientId=recipient_id,
        points=points,
        direction="OUT" if member_id == sender_id else "IN",
    )


def redemption_requested(
    *, member_id: int, redemption_id: int, reward_id: int | None, points: int, at: datetime
) -> Event:
    return event(
        EventType.REDEMPTION_REQUESTED,
        member_id,
        at,
        redemptionId=redemption_id,
        rewardId=reward_id,
        points=points,
    )


def redemption_held(
    *,
    member_id: int,
    redemption_id: int,
    merchant_id: int,
    points: int,
    expires_at: datetime | None,
    at: datetime,
) -> Event:
    return event(
        EventType.REDEMPTION_HELD,
        member_id,
        at,
        redemptionId=redemption_id,
        merchantId=merchant_id,
        points=points,
        expiresAt=_iso(expires_at),
    )


def redemption_captured(
    *, member_id: int, redemption_id: int, merchant_id: int | None, points: int, at: datetime
) -> Event:
    return event(
        EventType.REDEMPTION_CAPTURED,
        member_id,
        at,
        redemptionId=redemption_id,
        merchantId=merchant_id,
        points=points,
    )


def redemption_voided(
    *, member_id: int, redemption_id: int, merchant_id: int | None, points_returned: int, at: datetime
) -> Event:
    return event(
        EventType.REDEMPTION_VOIDED,
        member_id,
        at,
        redemptionId=redemption_id,
        merchantId=merchant_id,
        pointsReturned=points_returned,
    )


def redemption_fulfilled(*, member_id: int, redemption_id: int, reward_id: int | None, at: datetime) -> Event:
    return event(
        EventType.REDEMPTION_FULFILLED, member_id, at, redemptionId=redemption_id, rewardId=reward_id
    )


def redemption_cancelled(
    *, member_id: int, redemption_id: int, reward_id: int | None, points_returned: int, at: datetime
) -> Event:
    return event(
        EventType.REDEMPTION_CANCELLED,
        member_id,
        at,
        redemptionId=redemption_id,
        rewardId=reward_id,
        pointsReturned=points_returned,
    )


def tier_changed(
    *, member_id: int, from_tier_id: int | None, to_tier_id: int | None, reason: str, at: datetime
) -> Event:
    return event(
        EventType.TIER_CHANGED,
        member_id,
        at,
        fromTierId=from_tier_id,
        toTierId=to_tier_id,
        reason=reason,
    )


def offer_awarded(
    *,
    member_id: int,
    offer_id: int,
    purchase_id: int | None,
    points: int,
    discount_minor: int,
    cashback_minor: int,
    at: datetime,
) -> Event:
    return event(
        EventType.OFFER_AWARDED,
        member_id,
        at,
        offerId=offer_id,
        purchaseId=purchase_id,
        points=points,
        discountMinor=discount_minor,
        cashbackMinor=cashback_minor,
    )


def coupon_issued(*, member_id: int | None, offer_id: int, coupon_ids: list[int], at: datetime) -> Event:
    """Coupons generated for an offer (no member), or one claimed into a member's wallet."""
    return event(EventType.COUPON_ISSUED, member_id, at, offerId=offer_id, couponIds=coupon_ids)


def member_dormant(*, member_id: int, inactive_since: datetime, at: datetime) -> Event:
    return event(EventType.MEMBER_DORMANT, member_id, at, inactiveSince=inactive_since.isoformat())


def member_woken(*, member_id: int, dormant_since: datetime, at: datetime) -> Event:
    return event(EventType.MEMBER_WOKEN, member_id, at, dormantSince=dormant_since.isoformat())


def risk_held(
    *, member_id: int, review_id: int, purchase_id: int | None, points: int, rules: list[str], at: datetime
) -> Event:
    return event(
        EventType.RISK_HELD,
        member_id,
        at,
        reviewId=review_id,
        purchaseId=purchase_id,
        points=points,
        rules=rules,
    )


def risk_decided(*, approved: bool, member_id: int, review_id: int, points: int, at: datetime) -> Event:
    kind = EventType.RISK_APPROVED if approved else EventType.RISK_REJECTED
    return event(kind, member_id, at, reviewId=review_id, points=points)


def budget_events(
    *, offer_id: int, budget: int | None, before: int, after: int, unit: str, at: datetime
) -> list[Event]:
    """The warning and the exhaustion an award crosses: `before` and `after` are the offer's use of its
    budget (points, or money in minor units) either side of the award."""
    if budget is None or budget <= 0 or after <= before:
        return []
    events = []
    threshold = -(-budget * BUDGET_WARNING_PERCENT // 100)  # the first use at or past 80%
    fields = {"offerId": offer_id, "unit": unit, "budget": budget, "used": after}
    if before < threshold <= after:
        events.append(event(EventType.BUDGET_WARNING, None, at, percent=BUDGET_WARNING_PERCENT, **fields))
    if before < budget <= after:
        events.append(event(EventType.BUDGET_EXHAUSTED, None, at, **fields))
    return events


def member_no_purchase(*, member_id: int, enrolled_at: datetime, days: int, at: datetime) -> Event:
    """The sign-up nudge job's: the member made no purchase in `days` days since enrolling."""
    return event(EventType.MEMBER_NO_PURCHASE, member_id, at, enrolledAt=enrolled_at.isoformat(), days=days)


def notification_requested(
    *,
    member_id: int,
    notification_id: int,
    kind: str,
    category: str,
    template: str,
    parameters: dict[str, object],
    not_before: datetime | None,
    at: datetime,
) -> Event:
    """For a push gateway: which template to send the member, with ids and figures only."""
    return event(
        EventType.NOTIFICATION_REQUESTED,
        member_id,
        at,
        notificationId=notification_id,
        kind=kind,
        category=category,
        template=template,
        parameters=parameters,
        notBefore=_iso(not_before),
    )
