"""The risk use cases over the fakes: the earn-and-burn and fan-in checks a redemption and a
transfer call, the entries a decision posts, a rejection, and a rule's update with its refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.commands import DecideRiskReview, PostPurchase, UpdateRiskRule
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting
from domain.money import MAX_INT, Money
from domain.results import RiskReviewResult
from domain.risk import (
    Movement,
    MovementKind,
    ReviewStatus,
    RiskAction,
    RiskRefused,
    RiskReview,
    RiskRule,
    RuleKind,
)
from domain.services.purchases import post_purchase
from domain.services.risk import (
    approve_entry,
    decide_risk_review,
    refuse_risky_redemption,
    refuse_risky_transfer,
    reject_entry,
    update_risk_rule,
)
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import (
    ADMIN,
    assert_unchanged_but_for_idempotency,
    balance,
    given_member,
    given_merchant,
    lots_of,
    merchant_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)
REVIEW = RiskReview(7, 3, 11, 5, 250, ReviewStatus.OPEN, (), NOW)


def rule_of(db: FakeDatabase, kind: RuleKind) -> RiskRule:
    [found] = [r for r in db.tables.risk.rules.values() if r.kind is kind]
    return found


def set_rule(db: FakeDatabase, rule: RiskRule) -> None:
    db.tables.risk.rules[rule.id] = rule


async def given_earning(db: FakeDatabase, member_id: int, merchant_id: int, minor: int, at: datetime) -> None:
    await post_purchase(
        PostPurchase(linked(db, merchant_id, member_id), Money(minor, "CNY"), f"earn-{at.isoformat()}"),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


def redeeming(member_id: int, at: datetime = NOW) -> Movement:
    return Movement(MovementKind.REDEEM, member_id, 10, at)


# --- earn and burn --------------------------------------------------------------------------------


async def test_a_redemption_soon_after_a_big_earning_is_refused_naming_the_rule_and_the_member() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = rule_of(db, RuleKind.EARN_AND_BURN)
    set_rule(db, replace(burn, limit=99))
    await given_earning(db, member.id, merchant.id, 10_000, NOW - timedelta(minutes=30))  # 100 points

    uow = FakeUnitOfWork(db)
    async with uow:
        with pytest.raises(RiskRefused) as refused:
            await refuse_risky_redemption(uow, redeeming(member.id))

    assert refused.value.code is ErrorCode.RISK_REVIEW
    assert refused.value.message == (
        "refused by risk control: an earning of 100 points in the last 30 minutes, over 99"
    )
    assert refused.value.member_id == member.id


async def test_an_earning_before_the_window_or_at_the_limit_lets_a_redemption_through() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = rule_of(db, RuleKind.EARN_AND_BURN)
    set_rule(db, replace(burn, limit=99))
    await given_earning(db, member.id, merchant.id, 10_000, NOW - timedelta(minutes=30, seconds=1))
    await given_earning(db, member.id, merchant.id, 9_900, NOW)  # 99 points: not over the limit

    uow = FakeUnitOfWork(db)
    async with uow:
        await refuse_risky_redemption(uow, redeeming(member.id))


async def test_each_switched_on_burn_window_is_read_for_its_own_rule() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = rule_of(db, RuleKind.EARN_AND_BURN)
    set_rule(db, replace(burn, limit=1_000, window_minutes=30))
    set_rule(db, replace(burn, id=99, limit=99, window_minutes=120))
    await given_earning(db, member.id, merchant.id, 10_000, NOW - timedelta(minutes=90))

    uow = FakeUnitOfWork(db)
    async with uow:
        with pytest.raises(RiskRefused) as refused:
            await refuse_risky_redemption(uow, redeeming(member.id))

    assert "an earning of 100 points in the last 120 minutes, over 99" in refused.value.message


async def test_with_earn_and_burn_allowed_a_redemption_is_not_assessed() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = rule_of(db, RuleKind.EARN_AND_BURN)
    set_rule(db, replace(burn, limit=0, action=RiskAction.ALLOW))
    await given_earning(db, member.id, merchant.id, 10_000, NOW)

    uow = FakeUnitOfWork(db)
    async with uow:
        await refuse_risky_redemption(uow, redeeming(member.id))


# --- transfer fan-in ------------------------------------------------------------------------------


async def test_a_transfer_from_one_member_too_many_today_is_refused_for_the_receiver() -> None:
    db = FakeDatabase()
    fan_in = rule_of(db, RuleKind.TRANSFER_FAN_IN)
    set_rule(db, replace(fan_in, limit=2))
    day = NOW.replace(hour=0)
    db.tables.risk.transfers = [(9, 1, day), (9, 2, NOW), (9, 4, day - timedelta(seconds=1)), (8, 5, NOW)]
    movement = Movement(MovementKind.TRANSFER, 9, 10, NOW)

    uow = FakeUnitOfWork(db)
    async with uow:
        await refuse_risky_transfer(uow, 1, movement)  # sender 1 already counted: 2 members in all
        with pytest.raises(RiskRefused) as refused:
            await refuse_risky_transfer(uow, 3, movement)

    assert refused.value.message == "refused by risk control: points from 3 members today, over 2"
    assert refused.value.member_id == 9


async def test_with_fan_in_allowed_a_transfer_is_not_assessed() -> None:
    db = FakeDatabase()
    fan_in = rule_of(db, RuleKind.TRANSFER_FAN_IN)
    set_rule(db, replace(fan_in, limit=0, action=RiskAction.ALLOW))

    uow = FakeUnitOfWork(db)
    async with uow:
        await refuse_risky_transfer(uow, 1, Movement(MovementKind.TRANSFER, 9, 10, NOW))


# --- the entries a decision posts -----------------------------------------------------------------


def test_approval_moves_the_held_points_to_available() -> None:
    assert approve_entry(REVIEW) == JournalEntry(
        kind=EntryKind.APPROVE,
        member_id=3,
        origin_type=OriginType.PURCHASE,
        origin_id=11,
        description="Points under review now available (approved)",
        postings=(
            Posting(Account(AccountKind.MEMBER_REVIEW, 3), -250),
            Posting(Account.available(3), 250),
        ),
    )


def test_rejection_gives_the_points_back_to_their_funders_skipping_a_funder_of_none() -> None:
    funding = [
        (Account(AccountKind.ISSUANCE), 200),
        (Account(AccountKind.PARTNER_FUNDING, 4), 0),
        (Account(AccountKind.PARTNER_FUNDING, 5), 50),
    ]

    assert reject_entry(REVIEW, funding) == JournalEntry(
        kind=EntryKind.REJECT,
        member_id=3,
        origin_type=OriginType.PURCHASE,
        origin_id=11,
        description="Points under review taken back (rejected)",
        postings=(
            Posting(Account(AccountKind.MEMBER_REVIEW, 3), -250),
            Posting(Account(AccountKind.ISSUANCE), 200),
            Posting(Account(AccountKind.PARTNER_FUNDING, 5), 50),
        ),
    )


def test_a_funding_that_does_not_add_up_is_a_bug_not_a_rejection() -> None:
    with pytest.raises(ValueError, match=r"^review 7: the earning's funding does not add up to its points$"):
        reject_entry(REVIEW, [(Account(AccountKind.ISSUANCE), 249)])


# --- decisions ------------------------------------------------------------------------------------


async def held_purchase(db: FakeDatabase) -> tuple[int, int]:
    member = await given_member(db)
    merchant = await given_merchant(db)
    held = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(30_000_001, "CNY"), "big"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    assert held.review_id is not None
    return member.id, held.review_id


async def test_rejection_returns_the_held_points_to_issuance_and_the_purchase_earns_nothing() -> None:
    db = FakeDatabase()
    member_id, review_id = await held_purchase(db)
    review = db.tables.risk.reviews[review_id]
    later = NOW + timedelta(days=2)
    uow = FakeUnitOfWork(db)

    result = await decide_risk_review(
        DecideRiskReview(review_id, False, "d-1"), actor=ADMIN, uow=uow, clock=FixedClock(later)
    )

    decided = replace(review, status=ReviewStatus.REJECTED, decided_at=later, decided_by="admin-ada")
    assert db.tables.risk.reviews[review_id] == decided
    assert result == RiskReviewResult.of(decided)
    b = balance(db, member_id)
    assert (b.available, b.under_review, b.lifetime_earned) == (0, 0, 0)
    assert lots_of(db, member_id) == []
    purchase = db.tables.purchases[review.purchase_id]
    assert purchase.points_refunded == purchase.points_earned == 300_000
    [rejected] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.REJECT]
    assert rejected.at == later
    assert rejected.entry.postings == (
        Posting(Account(AccountKind.MEMBER_REVIEW, member_id), -300_000),
        Posting(Account(AccountKind.ISSUANCE), 300_000),
    )
    event = db.tables.audit[-1]
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        "admin-ada",
        "rejectRiskReview",
        "RiskReview",
        review_id,
        later,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("OPEN", "REJECTED")
    assert uow.commits == 1


async def test_an_approval_is_booked_at_its_decision_and_a_retry_answers_the_same() -> None:
    db = FakeDatabase()
    member_id, review_id = await held_purchase(db)
    later = NOW + timedelta(days=2)

    first = await decide_risk_review(
        DecideRiskReview(review_id, True, "d-1"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(later)
    )
    again = await decide_risk_review(
        DecideRiskReview(review_id, True, "d-1"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(later)
    )

    assert again == first
    assert isinstance(again, RiskReviewResult)
    assert first.status == "APPROVED"
    [approved] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.APPROVE]
    assert approved.at == later
    assert balance(db, member_id).available == 300_000


async def test_deciding_an_unknown_review_is_not_found_and_changes_nothing_but_its_key() -> None:
    db = FakeDatabase()
    before = snapshot(db)

    error = await raised(
        decide_risk_review(
            DecideRiskReview(404, True, "d-1"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.NOT_FOUND,
        "no such risk review",
        ("reviewId",),
    )
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_second_decision_says_the_review_was_already_decided() -> None:
    db = FakeDatabase()
    _, review_id = await held_purchase(db)
    await decide_risk_review(
        DecideRiskReview(review_id, False, "d-1"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    before = snapshot(db)

    error = await raised(
        decide_risk_review(
            DecideRiskReview(review_id, True, "d-2"),
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.ALREADY_FINALIZED,
        "this risk review was already decided",
        ("reviewId",),
    )
    assert_unchanged_but_for_idempotency(db, before)


async def test_only_an_admin_decides_or_updates() -> None:
    db = FakeDatabase()
    merchant = merchant_actor(1)
    refusals = [
        await raised(
            decide_risk_review(
                DecideRiskReview(1, True, "d"), actor=merchant, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
        await raised(
            update_risk_rule(
                UpdateRiskRule(1, limit=1), actor=merchant, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
    ]
    assert [(e.code, e.message) for e in refusals] == [
        (ErrorCode.FORBIDDEN, "this operation needs the role admin")
    ] * 2
    assert db.tables == FakeDatabase().tables


# --- rule updates ---------------------------------------------------------------------------------


async def update(db: FakeDatabase, cmd: UpdateRiskRule) -> RiskRule:
    return await update_risk_rule(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def test_every_setting_of_a_rule_may_change_and_the_change_is_audited_whole() -> None:
    db = FakeDatabase()
    history = rule_of(db, RuleKind.ABOVE_OWN_HISTORY)

    updated = await update(
        db,
        UpdateRiskRule(
            history.id,
            action="REFUSE",
            limit=20,
            window_minutes=0,
            currency=" hkd ",
            min_history=3,
            description=" Big tickets ",
        ),
    )

    assert updated == replace(
        history, action=RiskAction.REFUSE, limit=20, currency="HKD", min_history=3, description="Big tickets"
    )
    assert db.tables.risk.rules[history.id] == updated
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.request_id, event.at) == (
        "admin-ada",
        "updateRiskRule",
        "RiskRule",
        history.id,
        "req-1",
        NOW,
    )
    assert event.after == {
        "id": history.id,
        "kind": "ABOVE_OWN_HISTORY",
        "action": "REFUSE",
        "limit": 20,
        "window_minutes": 0,
        "currency": "HKD",
        "min_history": 3,
        "description": "Big tickets",
    }
    assert event.before is not None
    assert (event.before["action"], event.before["currency"], event.before["min_history"]) == (
        "HOLD",
        None,
        5,
    )


async def test_omitted_settings_stay_as_they_are() -> None:
    db = FakeDatabase()
    velocity = rule_of(db, RuleKind.MEMBER_VELOCITY)

    assert await update(db, UpdateRiskRule(velocity.id)) == velocity
    assert await update(db, UpdateRiskRule(velocity.id, window_minutes=5)) == replace(
        velocity, window_minutes=5
    )


@pytest.mark.parametrize(
    ("kind", "cmd", "message", "field"),
    [
        (RuleKind.MEMBER_VELOCITY, UpdateRiskRule(0, action="MAYBE"), "not a risk action", ("action",)),
        (
            RuleKind.PURCHASE_AMOUNT,
            UpdateRiskRule(0, currency="CNYX"),
            "must be at most 3 characters",
            ("currency",),
        ),
        (
            RuleKind.MEMBER_VELOCITY,
            UpdateRiskRule(0, description="d" * 201),
            "must be at most 200 characters",
            ("description",),
        ),
        (RuleKind.MEMBER_VELOCITY, UpdateRiskRule(0, description=" "), "must not be blank", ("description",)),
        (
            RuleKind.MEMBER_VELOCITY,
            UpdateRiskRule(0, limit=-1),
            f"limit must be between 0 and {MAX_INT}",
            ("limit",),
        ),
        (
            RuleKind.EARN_AND_BURN,
            UpdateRiskRule(0, action="HOLD"),
            "a rule on spending points can only allow or refuse",
            ("action",),
        ),
        (
            RuleKind.ABOVE_OWN_HISTORY,
            UpdateRiskRule(0, min_history=-1),
            f"minHistory must be between 0 and {MAX_INT}",
            ("minHistory",),
        ),
    ],
    ids=["action", "currency", "long-description", "blank-description", "limit", "hold-burn", "history"],
)
async def test_a_bad_setting_is_validation_with_its_field_and_changes_nothing(
    kind: RuleKind, cmd: UpdateRiskRule, message: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    before = snapshot(db)

    error = await raised(update(db, replace(cmd, rule_id=rule_of_first(db, kind))))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables == before


def rule_of_first(db: FakeDatabase, kind: RuleKind) -> int:
    return min(r.id for r in db.tables.risk.rules.values() if r.kind is kind)


async def test_the_longest_description_and_a_three_letter_currency_are_accepted() -> None:
    db = FakeDatabase()
    amount = rule_of_first(db, RuleKind.PURCHASE_AMOUNT)

    updated = await update(db, UpdateRiskRule(amount, currency="jpy", description="d" * 200))

    assert (updated.currency, updated.description) == ("JPY", "d" * 200)


async def test_updating_an_unknown_rule_is_not_found() -> None:
    db = FakeDatabase()

    error = await raised(update(db, UpdateRiskRule(404, limit=1)))

    assert (error.code, error.message, error.field) == (ErrorCode.NOT_FOUND, "no such risk rule", ("ruleId",))
    assert db.tables == FakeDatabase().tables
