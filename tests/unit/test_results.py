"""The results stored under an idempotency key (domain/results.py): each turns into plain JSON data
and back into exactly what it was, field by field, so a replay answers what the first call did."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from domain.members import Balance
from domain.merchants import Channel
from domain.money import Money
from domain.offers import Award, FundedCost, FunderKind, Mechanic
from domain.purchases import Adjustment, Purchase, ReasonCode
from domain.refunds import Refund
from domain.results import (
    AdjustmentResult,
    PurchaseResult,
    RedemptionResult,
    RefundResult,
    RiskReviewResult,
    award_from_json,
    award_json,
    redemption_from_json,
    redemption_json,
)
from domain.rewards import Redemption, RedemptionKind, RedemptionStatus
from domain.risk import ReviewStatus, RiskAction, RiskReview, RuleKind, RuleOutcome
from domain.services.idempotency import stored_fields

AT = datetime(2026, 11, 25, 20, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=8)))


def through_json(data: Any) -> Any:
    """What the idempotency store gives back: the data after a JSON round trip."""
    return json.loads(json.dumps(data))


def test_a_purchase_result_keeps_every_field_and_its_awards() -> None:
    purchase = Purchase(
        id=41,
        member_id=5,
        merchant_id=7,
        amount=Money(12_345, "HKD"),
        channel=Channel.ONLINE,
        occurred_at=AT,
        reference="R-1",
        points_earned=173,
        points_pending=123,
        created_at=AT + timedelta(seconds=2),
    )
    award = Award(
        3,
        2,
        Mechanic.CASHBACK_MONEY,
        points=4,
        discount_minor=5,
        cashback_minor=6,
        funding=(FundedCost(FunderKind.PARTNER, 9, 4, 11), FundedCost(FunderKind.PROGRAMME, None, 0, 0)),
    )
    result = PurchaseResult.of(purchase, [award])
    assert result == PurchaseResult(
        41,
        5,
        7,
        12_345,
        "HKD",
        "ONLINE",
        AT.isoformat(),
        "R-1",
        173,
        123,
        (AT + timedelta(seconds=2)).isoformat(),
        [award_json(award)],
    )
    assert result.purchase() == purchase
    assert award_from_json(through_json(award_json(award))) == award


def test_an_award_as_json_names_every_part() -> None:
    award = Award(3, 2, Mechanic.PERCENT_DISCOUNT, 0, 150, 0, (FundedCost(FunderKind.MERCHANT, 7, 0, 150),))
    assert award_json(award) == {
        "offer_id": 3,
        "version": 2,
        "mechanic": "PERCENT_DISCOUNT",
        "points": 0,
        "discount_minor": 150,
        "cashback_minor": 0,
        "funding": [{"kind": "MERCHANT", "funder_id": 7, "points": 0, "money_minor": 150}],
    }
    assert award_from_json(award_json(award)) == award


def test_a_refund_result_keeps_every_field() -> None:
    refund = Refund(
        id=12,
        member_id=5,
        purchase_id=41,
        merchant_id=7,
        amount=Money(2_500, "CNY"),
        points_reversed=25,
        debt_created=3,
        points_returned=8,
        reference="RF-9",
        created_at=AT,
    )
    result = RefundResult.of(refund)
    assert result == RefundResult(12, 41, 5, 7, 2_500, "CNY", 25, 3, 8, "RF-9", AT.isoformat())
    assert RefundResult(**through_json(asdict(result))).refund() == refund


def test_a_pos_redemption_as_json_keeps_every_field() -> None:
    hold = Redemption(
        id=30,
        member_id=5,
        reward_id=None,
        points=400,
        status=RedemptionStatus.CAPTURED,
        created_at=AT,
        kind=RedemptionKind.POS,
        merchant_id=7,
        captured_points=350,
        hold_expires_at=AT + timedelta(minutes=30),
        purchase_id=41,
        points_returned=50,
        finalized_at=AT + timedelta(minutes=5),
    )
    data = redemption_json(hold)
    assert data == {
        "id": 30,
        "member_id": 5,
        "reward_id": None,
        "points": 400,
        "status": "CAPTURED",
        "created_at": AT.isoformat(),
        "kind": "POS",
        "merchant_id": 7,
        "captured_points": 350,
        "hold_expires_at": (AT + timedelta(minutes=30)).isoformat(),
        "purchase_id": 41,
        "points_returned": 50,
        "finalized_at": (AT + timedelta(minutes=5)).isoformat(),
    }
    assert redemption_from_json(through_json(data)) == hold


def test_a_reward_redemption_round_trips_with_its_empty_times() -> None:
    reward = Redemption(31, 5, 4, 1_000, RedemptionStatus.REQUESTED, datetime(2026, 1, 2, tzinfo=UTC))
    assert redemption_from_json(redemption_json(reward)) == reward


def test_a_redemption_result_answers_with_its_snapshot() -> None:
    reward = Redemption(31, 5, 4, 1_000, RedemptionStatus.FULFILLED, AT, finalized_at=AT)
    result = RedemptionResult.of(reward, 1_000)
    assert (result.redemption_id, result.member_id, result.points) == (31, 5, 1_000)
    assert result.snapshot() == reward
    assert result.available_points is None
    hold = RedemptionResult.of(reward, 1_000, available_points=2_500)
    assert (hold.redemption_id, hold.points, hold.available_points) == (31, 1_000, 2_500)
    # Answers stored before the snapshot was kept have none.
    assert RedemptionResult(31, 5, 1_000).snapshot() is None


def test_an_adjustment_result_keeps_every_field() -> None:
    adjustment = Adjustment(
        id=8,
        member_id=5,
        points=-40,
        reason_code=ReasonCode.FRAUD_REVERSAL,
        note="chargeback",
        actor="admin-ada",
        created_at=AT,
    )
    result = AdjustmentResult.of(adjustment)
    assert result == AdjustmentResult(8, 5, -40, "FRAUD_REVERSAL", "chargeback", "admin-ada", AT.isoformat())
    assert result.adjustment() == adjustment


def test_an_adjustment_result_stored_without_its_details_has_no_adjustment() -> None:
    full = AdjustmentResult(8, 5, -40, "GOODWILL", None, "admin-ada", AT.isoformat())
    assert full.adjustment() is not None
    assert AdjustmentResult(8, 5, -40).adjustment() is None
    assert AdjustmentResult(8, 5, -40, "GOODWILL", None, "admin-ada", None).adjustment() is None
    assert AdjustmentResult(8, 5, -40, None, None, "admin-ada", AT.isoformat()).adjustment() is None
    assert AdjustmentResult(8, 5, -40, "GOODWILL", None, None, AT.isoformat()).adjustment() is None


def test_the_committed_balance_answers_the_first_call_and_is_never_stored_for_replays() -> None:
    balance = Balance(5, available=60, pending=0, held=0, lifetime_earned=100, lifetime_redeemed=40)
    result = AdjustmentResult(8, 5, -40, "GOODWILL", None, "admin-ada", AT.isoformat(), None, balance)
    stored = stored_fields(result)
    assert stored == {k: v for k, v in asdict(result).items() if k not in ("balance", "member")}
    replayed = AdjustmentResult(**json.loads(json.dumps(stored)))
    assert replayed.balance is None
    assert replayed.member is None
    assert replayed.adjustment() == result.adjustment()


def test_a_risk_review_result_keeps_every_field_and_its_outcomes() -> None:
    outcome = RuleOutcome(2, RuleKind.PURCHASE_AMOUNT, RiskAction.HOLD, 30_000_001, 30_000_000, "amount over")
    review = RiskReview(
        id=6,
        member_id=5,
        purchase_id=41,
        merchant_id=7,
        points=300_000,
        status=ReviewStatus.APPROVED,
        outcomes=(outcome,),
        created_at=AT,
        decided_at=AT + timedelta(hours=2),
        decided_by="admin-ada",
    )
    result = RiskReviewResult.of(review)

    assert result == RiskReviewResult(
        6, 5, 41, 7, 300_000, "APPROVED", [outcome.to_json()], AT.isoformat(),
        (AT + timedelta(hours=2)).isoformat(), "admin-ada",
    )  # fmt: skip
    assert RiskReviewResult(**through_json(asdict(result))).review() == review


def test_an_open_risk_review_round_trips_without_a_decision() -> None:
    review = RiskReview(6, 5, 41, 7, 300_000, ReviewStatus.OPEN, (), AT)
    result = RiskReviewResult.of(review)

    assert (result.decided_at, result.decided_by) == (None, None)
    assert result.review() == review
