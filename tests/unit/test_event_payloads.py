"""Each event builder's exact event: its type, version, member, time and every payload field, with
distinct values so that a field given another's value shows. The id's bit layout (version 7: Unix
milliseconds, then the random bits, with the version and variant set), and budget thresholds at
budgets that do not divide evenly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import events
from domain.events import Event, EventType

AT = datetime(2026, 11, 28, 1, 2, 3, 456_000, tzinfo=UTC)
THEN = datetime(2026, 12, 5, 6, 7, 8, tzinfo=UTC)


def told(event: Event) -> tuple[EventType, int, int | None, datetime, dict[str, object]]:
    return event.type, event.version, event.member_id, event.occurred_at, event.payload


def test_purchase_posted() -> None:
    made = events.purchase_posted(
        member_id=1,
        purchase_id=2,
        merchant_id=3,
        amount_minor=4,
        currency="CNY",
        channel="ONLINE",
        points=5,
        pending=True,
        held=False,
        purchased_at=THEN,
        at=AT,
    )
    assert told(made) == (
        EventType.PURCHASE_POSTED,
        1,
        1,
        AT,
        {
            "purchaseId": 2,
            "merchantId": 3,
            "amountMinor": 4,
            "currency": "CNY",
            "channel": "ONLINE",
            "points": 5,
            "pending": True,
            "held": False,
            "purchasedAt": "2026-12-05T06:07:08+00:00",
        },
    )


def test_points_pending_matured_expired_adjusted() -> None:
    assert told(events.points_pending(member_id=1, purchase_id=2, points=3, matures_at=THEN, at=AT)) == (
        EventType.POINTS_PENDING,
        1,
        1,
        AT,
        {"purchaseId": 2, "points": 3, "maturesAt": "2026-12-05T06:07:08+00:00"},
    )
    assert told(events.points_matured(member_id=1, purchase_id=2, points=3, at=AT)) == (
        EventType.POINTS_MATURED,
        1,
        1,
        AT,
        {"purchaseId": 2, "points": 3},
    )
    assert told(events.points_expired(member_id=1, expiration_id=2, points=3, at=AT)) == (
        EventType.POINTS_EXPIRED,
        1,
        1,
        AT,
        {"expirationId": 2, "points": 3},
    )
    assert told(events.points_adjusted(member_id=1, adjustment_id=2, points=-3, at=AT)) == (
        EventType.POINTS_ADJUSTED,
        1,
        1,
        AT,
        {"adjustmentId": 2, "points": -3},
    )


def test_points_refunded() -> None:
    made = events.points_refunded(
        member_id=1, refund_id=2, purchase_id=3, amount_minor=4, currency="USD", points=5, debt=6, at=AT
    )
    assert told(made) == (
        EventType.POINTS_REFUNDED,
        1,
        1,
        AT,
        {"refundId": 2, "purchaseId": 3, "amountMinor": 4, "currency": "USD", "points": 5, "debt": 6},
    )


def test_a_transfer_tells_the_sender_out_and_the_recipient_in() -> None:
    sent = events.points_transferred(member_id=1, transfer_id=2, sender_id=1, recipient_id=3, points=4, at=AT)
    got = events.points_transferred(member_id=3, transfer_id=2, sender_id=1, recipient_id=3, points=4, at=AT)
    fields = {"transferId": 2, "senderId": 1, "recipientId": 3, "points": 4}
    assert told(sent) == (EventType.POINTS_TRANSFERRED, 1, 1, AT, {**fields, "direction": "OUT"})
    assert told(got) == (EventType.POINTS_TRANSFERRED, 1, 3, AT, {**fields, "direction": "IN"})


def test_redemption_requested_captured_voided() -> None:
    assert told(events.redemption_requested(member_id=1, redemption_id=2, reward_id=3, points=4, at=AT)) == (
        EventType.REDEMPTION_REQUESTED,
        1,
        1,
        AT,
        {"redemptionId": 2, "rewardId": 3, "points": 4},
    )
    assert told(events.redemption_captured(member_id=1, redemption_id=2, merchant_id=3, points=4, at=AT)) == (
        EventType.REDEMPTION_CAPTURED,
        1,
        1,
        AT,
        {"redemptionId": 2, "merchantId": 3, "points": 4},
    )
    voided = events.redemption_voided(member_id=1, redemption_id=2, merchant_id=3, points_returned=4, at=AT)
    assert told(voided) == (
        EventType.REDEMPTION_VOIDED,
        1,
        1,
        AT,
        {"redemptionId": 2, "merchantId": 3, "pointsReturned": 4},
    )


def test_a_hold_tells_when_it_expires_or_that_it_does_not() -> None:
    held = events.redemption_held(
        member_id=1, redemption_id=2, merchant_id=3, points=4, expires_at=THEN, at=AT
    )
    assert told(held) == (
        EventType.REDEMPTION_HELD,
        1,
        1,
        AT,
        {"redemptionId": 2, "merchantId": 3, "points": 4, "expiresAt": "2026-12-05T06:07:08+00:00"},
    )
    forever = events.redemption_held(
        member_id=1, redemption_id=2, merchant_id=3, points=4, expires_at=None, at=AT
    )
    assert forever.payload["expiresAt"] is None


def test_redemption_fulfilled_and_cancelled() -> None:
    assert told(events.redemption_fulfilled(member_id=1, redemption_id=2, reward_id=3, at=AT)) == (
        EventType.REDEMPTION_FULFILLED,
        1,
        1,
        AT,
        {"redemptionId": 2, "rewardId": 3},
    )
    cancelled = events.redemption_cancelled(
        member_id=1, redemption_id=2, reward_id=3, points_returned=4, at=AT
    )
    assert told(cancelled) == (
        EventType.REDEMPTION_CANCELLED,
        1,
        1,
        AT,
        {"redemptionId": 2, "rewardId": 3, "pointsReturned": 4},
    )


def test_tier_changed_offer_awarded_coupon_issued() -> None:
    changed = events.tier_changed(member_id=1, from_tier_id=2, to_tier_id=3, reason="DOWNGRADE", at=AT)
    assert told(changed) == (
        EventType.TIER_CHANGED,
        1,
        1,
        AT,
        {"fromTierId": 2, "toTierId": 3, "reason": "DOWNGRADE"},
    )
    awarded = events.offer_awarded(
        member_id=1, offer_id=2, purchase_id=3, points=4, discount_minor=5, cashback_minor=6, at=AT
    )
    assert told(awarded) == (
        EventType.OFFER_AWARDED,
        1,
        1,
        AT,
        {"offerId": 2, "purchaseId": 3, "points": 4, "discountMinor": 5, "cashbackMinor": 6},
    )
    issued = events.coupon_issued(member_id=1, offer_id=2, coupon_ids=[3, 4], at=AT)
    assert told(issued) == (EventType.COUPON_ISSUED, 1, 1, AT, {"offerId": 2, "couponIds": [3, 4]})


def test_member_dormant_woken_and_no_purchase() -> None:
    assert told(events.member_dormant(member_id=1, inactive_since=THEN, at=AT)) == (
        EventType.MEMBER_DORMANT,
        1,
        1,
        AT,
        {"inactiveSince": "2026-12-05T06:07:08+00:00"},
    )
    assert told(events.member_woken(member_id=1, dormant_since=THEN, at=AT)) == (
        EventType.MEMBER_WOKEN,
        1,
        1,
        AT,
        {"dormantSince": "2026-12-05T06:07:08+00:00"},
    )
    assert told(events.member_no_purchase(member_id=1, enrolled_at=THEN, days=14, at=AT)) == (
        EventType.MEMBER_NO_PURCHASE,
        1,
        1,
        AT,
        {"enrolledAt": "2026-12-05T06:07:08+00:00", "days": 14},
    )


def test_risk_held_approved_rejected() -> None:
    held = events.risk_held(member_id=1, review_id=2, purchase_id=3, points=4, rules=["A", "B"], at=AT)
    assert told(held) == (
        EventType.RISK_HELD,
        1,
        1,
        AT,
        {"reviewId": 2, "purchaseId": 3, "points": 4, "rules": ["A", "B"]},
    )
    approved = events.risk_decided(approved=True, member_id=1, review_id=2, points=4, at=AT)
    rejected = events.risk_decided(approved=False, member_id=1, review_id=2, points=4, at=AT)
    assert told(approved) == (EventType.RISK_APPROVED, 1, 1, AT, {"reviewId": 2, "points": 4})
    assert told(rejected) == (EventType.RISK_REJECTED, 1, 1, AT, {"reviewId": 2, "points": 4})


def test_notification_requested_with_and_without_a_wait() -> None:
    made = events.notification_requested(
        member_id=1,
        notification_id=2,
        kind="CAMPAIGN",
        category="MARKETING",
        template="nudge",
        parameters={"offerId": 3},
        not_before=THEN,
        at=AT,
    )
    assert told(made) == (
        EventType.NOTIFICATION_REQUESTED,
        1,
        1,
        AT,
        {
            "notificationId": 2,
            "kind": "CAMPAIGN",
            "category": "MARKETING",
            "template": "nudge",
            "parameters": {"offerId": 3},
            "notBefore": "2026-12-05T06:07:08+00:00",
        },
    )
    now = events.notification_requested(
        member_id=1,
        notification_id=2,
        kind="CAMPAIGN",
        category="MARKETING",
        template="nudge",
        parameters={},
        not_before=None,
        at=AT,
    )
    assert now.payload["notBefore"] is None


def test_an_events_payload_is_its_own_copy() -> None:
    fields: dict[str, object] = {"a": 1}
    made = events.event(EventType.POINTS_ADJUSTED, 7, AT, **fields)
    assert (made.type, made.version, made.member_id, made.occurred_at, made.payload) == (
        EventType.POINTS_ADJUSTED,
        1,
        7,
        AT,
        {"a": 1},
    )
    assert uuid.UUID(made.id).version == 7


def fixed_random(byte: int) -> object:
    return lambda n: bytes([byte]) * n


@pytest.mark.parametrize(
    ("byte", "middle"),
    [
        # All random bits set: the version nibble and the variant's two bits are forced to 0111 and 10.
        (0xFF, "7fff-bfff-ffffffffffff"),
        # None set: only the version and the variant show.
        (0x00, "7000-8000-000000000000"),
    ],
)
def test_an_id_is_the_milliseconds_then_the_random_bits_with_version_and_variant(
    byte: int, middle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events.os, "urandom", fixed_random(byte))
    millis = int(AT.timestamp() * 1000)
    assert millis == 1_795_827_723_456
    hex_millis = f"{millis:012x}"
    assert events.ordered_id(AT) == f"{hex_millis[:8]}-{hex_millis[8:]}-{middle}"


def test_an_id_before_1970_keeps_48_bits_of_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # One millisecond before the epoch: -1 in 48 bits is all ones, and nothing spills past them.
    monkeypatch.setattr(events.os, "urandom", fixed_random(0x00))
    at = datetime(1970, 1, 1, tzinfo=UTC) - timedelta(milliseconds=1)
    assert events.ordered_id(at) == "ffffffff-ffff-7000-8000-000000000000"


def test_an_id_takes_ten_random_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def urandom(n: int) -> bytes:
        asked.append(n)
        return bytes(range(1, n + 1))

    monkeypatch.setattr(events.os, "urandom", urandom)
    made = events.ordered_id(datetime(1970, 1, 1, tzinfo=UTC))
    assert asked == [10]
    # Bytes 1..10 big-endian, under the version nibble (0x01 -> 7, 0x02) and the variant (0x03 -> 0x83).
    assert made == "00000000-0000-7102-8304-05060708090a"


@pytest.mark.parametrize(
    ("budget", "before", "after", "kinds"),
    [
        # 80% of 101 is 80.8: the first use at or past it is 81.
        (101, 0, 80, []),
        (101, 0, 81, [EventType.BUDGET_WARNING]),
        (101, 80, 81, [EventType.BUDGET_WARNING]),
        (101, 81, 100, []),
        (101, 100, 101, [EventType.BUDGET_EXHAUSTED]),
        # 80% of 1 is 0.8: the first point is both the warning and the end.
        (1, 0, 1, [EventType.BUDGET_WARNING, EventType.BUDGET_EXHAUSTED]),
        (5, 3, 4, [EventType.BUDGET_WARNING]),
        (5, 0, 3, []),
        # No budget, or nothing used by this award: nothing.
        (0, -1, 5, []),
        (-5, -10, 5, []),
        (100, 90, 90, []),
        (100, 100, 90, []),
    ],
)
def test_a_budget_threshold_is_the_first_use_at_or_past_80_percent(
    budget: int, before: int, after: int, kinds: list[EventType]
) -> None:
    made = events.budget_events(offer_id=1, budget=budget, before=before, after=after, unit="POINTS", at=AT)
    assert [e.type for e in made] == kinds


def test_budget_events_carry_the_offer_the_unit_the_budget_and_the_use() -> None:
    warning, exhausted = events.budget_events(
        offer_id=7, budget=1_000, before=500, after=1_200, unit="MONEY", at=AT
    )
    fields = {"offerId": 7, "unit": "MONEY", "budget": 1_000, "used": 1_200}
    assert told(warning) == (EventType.BUDGET_WARNING, 1, None, AT, {"percent": 80, **fields})
    assert told(exhausted) == (EventType.BUDGET_EXHAUSTED, 1, None, AT, fields)


def test_the_warning_threshold_is_exact_for_a_budget_a_float_cannot_hold() -> None:
    # 80% of 10**17 + 1 is 80_000_000_000_000_000.8: the first use past it is ...001. A float
    # rounds it to 8e16, which would warn one unit early.
    budget = 10**17 + 1
    early = events.budget_events(offer_id=1, budget=budget, before=0, after=8 * 10**16, unit="MONEY", at=AT)
    on_time = events.budget_events(
        offer_id=1, budget=budget, before=0, after=8 * 10**16 + 1, unit="MONEY", at=AT
    )
    assert early == []
    assert [e.type for e in on_time] == [EventType.BUDGET_WARNING]
