"""postPurchase and qualifyPurchase over the fakes, beyond base earning: who may post or ask for
whom, coupons and their refusals, the return window, a purchase that earns nothing, and the dry
run's answer with the same engine and usage, writing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import PostPurchase, PresentedMember, QualifyPurchase
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind
from domain.members import MemberStatus
from domain.merchants import Channel
from domain.money import MAX_INT, Money
from domain.offers import (
    CapPeriod,
    Eligibility,
    FirstPurchase,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    SkipReason,
    Window,
)
from domain.results import PurchaseResult
from domain.risk import RiskAction, RuleKind
from domain.services.pos_redemptions import create_redemption_code
from domain.services.purchases import cap_periods, post_purchase, qualify_purchase
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.fakes.risk import raise_risk_limits
from tests.unit.test_services import (
    LATER,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    merchant_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
OPEN = Window(NOW - timedelta(days=1), NOW + timedelta(days=1))
PROCESSOR = Actor(Role.PROCESSOR, "bank", processor_id=1, request_id="req-9")


async def given_offer(db: FakeDatabase, **fields: object) -> Offer:
    values: dict[str, object] = {
        "mechanic": Mechanic.BONUS_POINTS,
        "window": OPEN,
        "funding": (FundingShare(FunderKind.PROGRAMME, None, 100),),
        "points": 50,
    } | fields
    seed = FakeUnitOfWork(db)
    async with seed:
        draft = Offer(id=0, version=0, name="bonus", **values)  # type: ignore[arg-type]
        offer = await seed.offers.add(draft, NOW)
        await seed.commit()
    return offer


async def given_coupon(
    db: FakeDatabase, offer_id: int, code: str, max_uses: int = 1, member_id: int | None = None
) -> None:
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.offers.add_coupons(offer_id, [code], max_uses, NOW)
        if member_id is not None:
            await seed.offers.claim_coupon(code, member_id, NOW)
        await seed.commit()


async def buy(
    db: FakeDatabase,
    merchant_id: int,
    member_id: int,
    minor: int,
    key: str = "p-1",
    *,
    reference: str | None = None,
    coupon_code: str | None = None,
) -> PurchaseResult:
    return await post_purchase(
        PostPurchase(
            linked(db, merchant_id, member_id),
            Money(minor, "CNY"),
            key,
            reference=reference,
            coupon_code=coupon_code,
        ),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )


# --- who posts for whom ---------------------------------------------------------------------------


async def test_a_processor_posts_for_a_member_it_names_at_a_merchant_it_names() -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)

    by_id = await post_purchase(
        PostPurchase(
            PresentedMember(member_id=member.id), Money(1_000, "CNY"), "b-1", merchant_id=merchant.id
        ),
        actor=PROCESSOR,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    by_ref = await post_purchase(
        PostPurchase(
            PresentedMember(external_ref="CRM-1"), Money(2_000, "CNY"), "b-2", merchant_id=merchant.id
        ),
        actor=PROCESSOR,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert (by_id.member_id, by_id.points_earned, by_ref.member_id, by_ref.points_earned) == (
        member.id,
        10,
        member.id,
        20,
    )
    assert balance(db, member.id).available == 30


async def test_a_processor_must_name_the_merchant_and_it_must_exist() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    unnamed = await raised(
        post_purchase(
            PostPurchase(PresentedMember(member_id=member.id), Money(1_000, "CNY"), "b-1"),
            actor=PROCESSOR,
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )
    unknown = await raised(
        post_purchase(
            PostPurchase(PresentedMember(member_id=member.id), Money(1_000, "CNY"), "b-2", merchant_id=404),
            actor=PROCESSOR,
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (unnamed.code, unnamed.message, unnamed.field) == (
        ErrorCode.VALIDATION,
        "a processor names the merchant",
        ("merchantId",),
    )
    assert (unknown.code, unknown.message, unknown.field) == (
        ErrorCode.NOT_FOUND,
        "no such merchant",
        ("merchantId",),
    )
    assert db.tables.purchases == {}


async def test_only_merchants_and_processors_post_purchases() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    error = await raised(
        post_purchase(
            PostPurchase(PresentedMember(member_id=member.id), Money(1, "CNY"), "k", merchant_id=1),
            actor=member_actor(member.id),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message) == (
        ErrorCode.FORBIDDEN,
        "this operation needs the role merchant or processor",
    )


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"reference": "r" * 101}, "must be at most 100 characters", ("reference",)),
        ({"coupon_code": "c" * 41}, "must be at most 40 characters", ("couponCode",)),
        ({"coupon_code": " "}, "must not be blank", ("couponCode",)),
    ],
    ids=["reference", "long-coupon", "blank-coupon"],
)
async def test_a_bad_reference_or_coupon_code_is_validation_and_stores_nothing(
    fields: dict[str, object], message: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 1_000, **fields))  # type: ignore[arg-type]

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables == before


async def test_a_reference_of_100_characters_is_kept_trimmed() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 1_000, reference=" " + "r" * 100 + " ")

    assert db.tables.purchases[result.purchase_id].reference == "r" * 100


async def test_a_purchase_that_earns_nothing_records_that_the_member_acted() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 99)  # under one yuan: no point

    assert result.points_earned == 0
    assert db.tables.journal == {}
    assert db.tables.members[member.id].last_activity_at == NOW


# --- the return window and risk holds -------------------------------------------------------------


async def test_inside_a_return_window_the_points_are_pending_until_it_ends() -> None:
    db = FakeDatabase()
    db.tables.programme = replace(db.tables.programme, pending_days=7)
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 12_345)

    b = balance(db, member.id)
    assert (b.available, b.pending, b.lifetime_earned) == (0, 123, 123)
    assert lots_of(db, member.id) == []
    assert db.tables.purchases[result.purchase_id].points_pending == 123
    assert db.tables.purchase_terms[result.purchase_id].matures_at == NOW + timedelta(days=7)
    [posted] = db.tables.journal.values()
    assert posted.entry.postings[-1].account == Account(AccountKind.MEMBER_PENDING, member.id)
    assert posted.at == NOW


async def test_a_held_purchase_waits_in_review_instead_of_the_return_window_and_is_audited() -> None:
    db = FakeDatabase()
    db.tables.programme = replace(db.tables.programme, pending_days=7)
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 30_000_001)

    assert result.review_id is not None
    assert result.risk_notice == "held for risk review: amount 30000001 CNY minor units over 30000000"
    b = balance(db, member.id)
    assert (b.available, b.pending, b.under_review) == (0, 0, 300_000)
    purchase = db.tables.purchases[result.purchase_id]
    assert (purchase.points_pending, db.tables.purchase_terms[result.purchase_id].matures_at) == (0, None)
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_id, event.member_id, event.at) == (
        "pos-2",
        "security.risk_hold",
        member.id,
        member.id,
        NOW,
    )
    assert event.after == {
        "reviewId": result.review_id,
        "purchaseId": result.purchase_id,
        "points": 300_000,
        "rules": "amount 30000001 CNY minor units over 30000000",
    }


async def test_a_held_purchase_that_earns_nothing_holds_nothing() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db, override=Decimal(0))

    result = await buy(db, merchant.id, member.id, 30_000_001)

    assert (result.points_earned, result.review_id, result.risk_notice) == (0, None, None)
    assert db.tables.risk.reviews == {}
    assert db.tables.audit == []


async def test_a_refused_purchase_is_risk_review_on_the_amount_and_stores_only_its_answer() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)
    [cny] = [r for r in db.tables.risk.rules.values() if r.currency == "CNY"]
    db.tables.risk.rules[cny.id] = replace(cny, action=RiskAction.REFUSE)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 30_000_001))

    assert (error.code, error.field) == (ErrorCode.RISK_REVIEW, ("amount",))
    assert error.message == "refused by risk control: amount 30000001 CNY minor units over 30000000"
    assert replace(db.tables, idempotency={}, audit=[]) == replace(before, idempotency={}, audit=[])
    assert [e.action for e in db.tables.audit] == ["security.risk_refused"]


# --- coupons --------------------------------------------------------------------------------------


async def test_a_coupon_in_upper_or_lower_case_gives_its_offer_and_uses_one_use() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, requires_coupon=True, points=70)
    await given_coupon(db, offer.id, "SPRING24", max_uses=2)

    result = await buy(db, merchant.id, member.id, 1_000, coupon_code=" spring24 ")

    assert result.points_earned == 10 + 70
    [coupon] = db.tables.coupons.values()
    assert coupon.uses == 1
    assert db.tables.purchase_terms[result.purchase_id].coupon_id == coupon.id


async def test_a_coupon_for_an_offer_at_another_merchant_is_looked_up_and_said_not_to_apply() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    other = await given_merchant(db, "Noodle Bar")
    elsewhere = await given_offer(
        db,
        requires_coupon=True,
        points=70,
        eligibility=Eligibility(merchant_ids=frozenset({other.id})),
    )
    await given_coupon(db, elsewhere.id, "NOODLE")
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 1_000, coupon_code="NOODLE"))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "the coupon does not apply to this purchase (MERCHANT)",
        ("couponCode",),
    )
    assert db.tables == before


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        ("unknown", ErrorCode.NOT_FOUND, "no such coupon"),
        ("theirs", ErrorCode.VALIDATION, "this coupon is in another member's wallet"),
        ("used", ErrorCode.LIMIT_REACHED, "this coupon is used up"),
    ],
)
async def test_a_coupon_that_cannot_be_used_is_refused_on_its_field(
    setup: str, code: ErrorCode, message: str
) -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    other = await given_member(db, "CRM-2")
    merchant = await given_merchant(db)
    offer = await given_offer(db, requires_coupon=True)
    if setup == "theirs":
        await given_coupon(db, offer.id, "C1", member_id=other.id)
    if setup == "used":
        await given_coupon(db, offer.id, "C1", max_uses=1)
        await buy(db, merchant.id, other.id, 1_000, "p-0", coupon_code="C1")
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 1_000, coupon_code="C1"))

    assert (error.code, error.message, error.field) == (code, message, ("couponCode",))
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_coupon_whose_offer_gives_nothing_here_says_why() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(
        db,
        requires_coupon=True,
        eligibility=Eligibility(minimum_spend=Money(5_000, "CNY")),
    )
    await given_coupon(db, offer.id, "BIG", max_uses=5)
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 4_999, coupon_code="BIG"))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "the coupon does not apply to this purchase (MINIMUM_SPEND)",
        ("couponCode",),
    )
    assert db.tables == before


async def test_a_coupon_used_up_meanwhile_is_limit_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, requires_coupon=True)
    await given_coupon(db, offer.id, "C1", max_uses=5)
    uow = FakeUnitOfWork(db)

    async def lost(*_: object) -> bool:
        return False

    monkeypatch.setattr(uow.offers, "use_coupon", lost)
    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), "p-1", coupon_code="C1"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.LIMIT_REACHED,
        "this coupon is used up",
        ("couponCode",),
    )
    assert db.tables.purchases == {}


# --- referrers ------------------------------------------------------------------------------------


async def test_an_offer_for_referrers_pays_an_active_referrer_and_not_a_locked_one() -> None:
    db = FakeDatabase()
    referrer = await given_member(db, "CRM-1")
    friend = await given_member(db, "CRM-2")
    db.tables.members[friend.id] = replace(db.tables.members[friend.id], referred_by=referrer.id)
    merchant = await given_merchant(db)
    await given_offer(db, points=20, referrer_points=30)

    first = await buy(db, merchant.id, friend.id, 1_000, "p-1")
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.members.set_status(referrer.id, MemberStatus.LOCKED, "fraud")
        await seed.commit()
    second = await buy(db, merchant.id, friend.id, 1_000, "p-2")

    assert (first.points_earned, second.points_earned) == (30, 30)
    assert balance(db, referrer.id).available == 30  # paid once, while active
    assert balance(db, friend.id).available == 60


# --- the dry run ----------------------------------------------------------------------------------


async def test_a_dry_run_answers_what_a_purchase_would_earn_and_why_offers_would_not_apply() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 77, LATER)
    bonus = await given_offer(db, points=50)
    big = await given_offer(
        db,
        points=500,
        eligibility=Eligibility(minimum_spend=Money(100_000, "CNY")),
    )
    before = snapshot(db)
    code = await create_redemption_code(
        actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    after_code = snapshot(db)

    answer = await qualify_purchase(
        QualifyPurchase(Money(12_345, "CNY"), PresentedMember(code=code.code), channel=Channel.OFFLINE),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert (answer.member_id, answer.available_points, answer.presented_by_code) == (member.id, 77, True)
    assert (answer.evaluation.base_points, answer.evaluation.total_points) == (123, 173)
    assert [a.offer_id for a in answer.evaluation.awards] == [bonus.id]
    assert [(s.offer_id, s.reason) for s in answer.evaluation.skipped] == [(big.id, SkipReason.MINIMUM_SPEND)]
    assert db.tables == after_code  # the code is only checked, not used
    assert before.purchases == db.tables.purchases == {}


async def test_a_member_asks_for_itself_at_a_merchant_it_names() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_000, "CNY"), merchant_id=merchant.id),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert (answer.member_id, answer.available_points, answer.presented_by_code) == (member.id, 0, False)
    assert answer.evaluation.base_points == 10


async def test_a_dry_run_counts_the_members_use_of_a_capped_offer() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    once = await given_offer(db, limits=Limits(per_member=1))
    await buy(db, merchant.id, member.id, 1_000)

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_000, "CNY"), linked(db, merchant.id, member.id)),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert answer.evaluation.awards == ()
    assert [(s.offer_id, s.reason) for s in answer.evaluation.skipped] == [
        (once.id, SkipReason.MEMBER_LIMIT_REACHED)
    ]
    assert answer.available_points == 60


@pytest.mark.parametrize(
    ("actor", "cmd", "code", "message", "field"),
    [
        (
            PROCESSOR,
            QualifyPurchase(Money(1, "CNY"), PresentedMember(member_id=1)),
            ErrorCode.VALIDATION,
            "name the merchant",
            ("merchantId",),
        ),
        (
            merchant_actor(5),
            QualifyPurchase(Money(1, "CNY")),
            ErrorCode.VALIDATION,
            "name the member",
            ("member",),
        ),
        (
            Actor(Role.MEMBER, "m"),
            QualifyPurchase(Money(1, "CNY"), merchant_id=5),
            ErrorCode.FORBIDDEN,
            "the token names no member",
            None,
        ),
        (
            Actor(Role.ADMIN, "a"),
            QualifyPurchase(Money(1, "CNY"), merchant_id=5),
            ErrorCode.FORBIDDEN,
            "this operation needs the role merchant or processor or member",
            None,
        ),
    ],
    ids=["no-merchant", "no-member", "memberless-token", "admin"],
)
async def test_a_dry_run_needs_a_merchant_and_a_member(
    actor: Actor, cmd: QualifyPurchase, code: ErrorCode, message: str, field: tuple[str, ...] | None
) -> None:
    db = FakeDatabase()

    error = await raised(qualify_purchase(cmd, actor=actor, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)))

    assert (error.code, error.message, error.field) == (code, message, field)


async def test_a_dry_run_at_an_unknown_merchant_is_not_found() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    error = await raised(
        qualify_purchase(
            QualifyPurchase(Money(1_000, "CNY"), merchant_id=404),
            actor=member_actor(member.id),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.NOT_FOUND,
        "no such merchant",
        ("merchantId",),
    )


async def test_a_processor_dry_run_names_the_member_by_id() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_000, "CNY"), PresentedMember(member_id=member.id), merchant_id=merchant.id),
        actor=PROCESSOR,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert (answer.member_id, answer.evaluation.base_points) == (member.id, 10)
    assert db.tables.journal == {}


# --- offers' claims -------------------------------------------------------------------------------


async def test_an_award_whose_claim_loses_a_race_is_dropped_and_the_base_earn_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=50)
    uow = FakeUnitOfWork(db)

    async def spent(*_: object) -> SkipReason:
        return SkipReason.BUDGET_EXHAUSTED  # another purchase took the last of the budget

    monkeypatch.setattr(uow.offers, "claim", spent)
    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=FixedClock(NOW),
    )

    assert (result.points_earned, result.awards) == (10, [])
    assert db.tables.purchase_awards == {}
    assert balance(db, member.id).available == 10


async def test_a_capped_award_is_claimed_and_kept_in_its_cap_period_an_uncapped_one_in_none() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    daily = await given_offer(db, points=5, limits=Limits(per_member=1, per_member_period=CapPeriod.DAY))
    always = await given_offer(db, points=7)
    at = NOW + timedelta(hours=3)

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )

    midnight = datetime(2024, 3, 1, tzinfo=UTC)
    assert result.points_earned == 10 + 5 + 7
    assert {row.award.offer_id: row.cap_period_start for row in db.tables.purchase_awards.values()} == {
        daily.id: midnight,
        always.id: None,
    }
    assert {
        (row.purchase_id, row.member_id, row.currency, row.created_at)
        for row in db.tables.purchase_awards.values()
    } == {(result.purchase_id, member.id, "CNY", at)}
    assert db.tables.offer_member_uses == {(daily.id, member.id, midnight): 1}
    assert cap_periods([daily, always], [a for _, a in db.tables.awards], at) == {daily.id: midnight}
    assert cap_periods([daily, always], [], at) == {}


async def test_a_first_purchase_offer_is_given_on_the_first_purchase_only() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=100, eligibility=Eligibility(first_purchase=FirstPurchase.EVER))

    first = await buy(db, merchant.id, member.id, 1_000, "p-1")
    second = await buy(db, merchant.id, member.id, 1_000, "p-2")

    assert (first.points_earned, second.points_earned) == (110, 10)


async def test_a_purchase_earning_past_the_32_bit_limit_says_so() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=2**31 - 10)
    raise_risk_limits(db)
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 1_000))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "this amount earns more points than one purchase may",
        ("amount", "amountMinor"),
    )
    assert db.tables == before


# --- offers' usage, coupons' owners, money budgets ------------------------------------------------


async def test_a_runner_up_is_given_when_the_members_cap_on_the_first_choice_is_used_up() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    once = await given_offer(db, points=50, exclusive_group="spring", priority=2, limits=Limits(per_member=1))
    runner_up = await given_offer(db, points=20, exclusive_group="spring", priority=1)

    first = await buy(db, merchant.id, member.id, 1_000, "p-1")
    second = await buy(db, merchant.id, member.id, 1_000, "p-2")

    assert (first.points_earned, second.points_earned) == (60, 30)
    assert [a.offer_id for _, a in db.tables.awards] == [once.id, runner_up.id]


async def test_a_coupon_in_the_members_own_wallet_is_used_by_it() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, requires_coupon=True, points=70)
    await given_coupon(db, offer.id, "MINE", member_id=member.id)

    result = await buy(db, merchant.id, member.id, 1_000, coupon_code="MINE")

    assert result.points_earned == 80
    [coupon] = db.tables.coupons.values()
    assert (coupon.uses, coupon.member_id) == (1, member.id)


async def test_a_coupon_of_a_paused_offer_does_not_apply_as_the_offer_is_not_active() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, requires_coupon=True)
    await given_coupon(db, offer.id, "PAUSED", max_uses=5)
    db.tables.offers[offer.id] = replace(offer, status=OfferStatus.PAUSED)
    linked(db, merchant.id, member.id)
    before = snapshot(db)

    error = await raised(buy(db, merchant.id, member.id, 1_000, coupon_code="PAUSED"))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "the coupon does not apply to this purchase (NOT_ACTIVE)",
        ("couponCode",),
    )
    assert db.tables == before


async def test_cashback_money_is_claimed_against_the_offers_money_budget() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(
        db,
        mechanic=Mechanic.CASHBACK_MONEY,
        points=0,
        percent=Decimal(10),
        limits=Limits(budget_money=Money(150, "CNY")),
    )

    first = await buy(db, merchant.id, member.id, 1_000, "p-1")  # 100 back
    second = await buy(db, merchant.id, member.id, 1_000, "p-2")  # 100 more would pass the budget

    assert [len(r.awards) for r in (first, second)] == [1, 0]
    assert db.tables.offer_usage[offer.id].money_minor == 100


# --- the dry run, as the purchase would be --------------------------------------------------------


async def test_a_dry_run_earns_at_the_members_tier_and_sees_its_tier_and_first_purchase_offers() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1), NOW)
        gold = await seed.tiers.add(
            Tier(0, "GOLD", "Gold", 2, min_points=1, earn_multiplier=Decimal("1.5")), NOW
        )
        await seed.commit()
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)
    for_gold = await given_offer(db, points=5, eligibility=Eligibility(tier_ids=frozenset({gold.id})))
    first = await given_offer(db, points=7, eligibility=Eligibility(first_purchase=FirstPurchase.EVER))
    here_online = await given_offer(
        db,
        points=11,
        eligibility=Eligibility(merchant_ids=frozenset({merchant.id}), channels=frozenset({Channel.ONLINE})),
    )
    daily = await given_offer(db, points=13, limits=Limits(per_member=1, per_member_period=CapPeriod.DAY))

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_001, "CNY"), linked(db, merchant.id, member.id), channel=Channel.ONLINE),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert answer.evaluation.base_points == 15  # 10.01 x 1.5, rounded down
    assert sorted(a.offer_id for a in answer.evaluation.awards) == sorted(
        [for_gold.id, first.id, here_online.id, daily.id]
    )
    assert answer.evaluation.skipped == ()


async def test_a_dry_run_for_a_referred_member_shows_the_offer_that_pays_its_referrer() -> None:
    db = FakeDatabase()
    referrer = await given_member(db, "CRM-1")
    friend = await given_member(db, "CRM-2")
    db.tables.members[friend.id] = replace(db.tables.members[friend.id], referred_by=referrer.id)
    merchant = await given_merchant(db)
    offer = await given_offer(db, points=20, referrer_points=30)

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_000, "CNY"), linked(db, merchant.id, friend.id)),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert [(a.offer_id, a.points) for a in answer.evaluation.awards] == [(offer.id, 20)]
    assert db.tables.journal == {}


async def test_a_code_from_the_wallet_serves_one_checkout_earning_then_no_more() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    issued = await create_redemption_code(
        actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )

    def by_code(key: str) -> PostPurchase:
        return PostPurchase(PresentedMember(code=issued.code), Money(1_000, "CNY"), key)

    first = await post_purchase(
        by_code("p-1"), actor=merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    again = await raised(
        post_purchase(
            by_code("p-2"), actor=merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )

    assert (first.member_id, first.points_earned) == (member.id, 10)
    assert (again.code, again.field) == (ErrorCode.NOT_FOUND, ("memberCode",))


async def test_a_purchase_gets_its_tier_and_channel_offers() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1), NOW)
        gold = await seed.tiers.add(Tier(0, "GOLD", "Gold", 2, min_points=1), NOW)
        await seed.commit()
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)
    for_gold = await given_offer(db, points=5, eligibility=Eligibility(tier_ids=frozenset({gold.id})))
    online = await given_offer(db, points=11, eligibility=Eligibility(channels=frozenset({Channel.ONLINE})))

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), "p-1", channel=Channel.ONLINE),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert result.points_earned == 10 + 5 + 11
    assert sorted(a.offer_id for _, a in db.tables.awards) == sorted([for_gold.id, online.id])


# --- limits, windows and risk at their edges ------------------------------------------------------


async def test_a_purchase_earning_exactly_the_largest_32_bit_int_is_posted() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=MAX_INT - 10)
    raise_risk_limits(db)

    result = await buy(db, merchant.id, member.id, 1_000)

    assert result.points_earned == MAX_INT
    assert balance(db, member.id).available == MAX_INT


async def test_a_one_day_return_window_keeps_the_points_pending_for_a_day() -> None:
    db = FakeDatabase()
    db.tables.programme = replace(db.tables.programme, pending_days=1)
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 1_000)

    assert (result.points_pending, balance(db, member.id).pending) == (10, 10)
    assert db.tables.purchase_terms[result.purchase_id].matures_at == NOW + timedelta(days=1)


async def test_a_held_purchase_answers_with_nothing_pending() -> None:
    db = FakeDatabase()
    db.tables.programme = replace(db.tables.programme, pending_days=7)
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 30_000_001)

    assert (result.points_earned, result.points_pending) == (300_000, 0)


async def test_a_purchase_of_one_point_over_a_holding_rule_is_held() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    [velocity] = [r for r in db.tables.risk.rules.values() if r.kind is RuleKind.MEMBER_VELOCITY]
    db.tables.risk.rules[velocity.id] = replace(velocity, limit=0)

    result = await buy(db, merchant.id, member.id, 100)

    assert (result.points_earned, result.review_id is not None) == (1, True)
    assert balance(db, member.id).under_review == 1


async def test_the_risk_counters_are_the_members_and_a_refusal_is_audited_on_the_member() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await buy(db, merchant.id, member.id, 1_000, "p-1")
    [cny] = [r for r in db.tables.risk.rules.values() if r.currency == "CNY"]
    db.tables.risk.rules[cny.id] = replace(cny, action=RiskAction.REFUSE)

    await raised(buy(db, merchant.id, member.id, 30_000_001, "p-2"))

    member_scopes = {k.scope.value for k in db.tables.risk.counters if k.owner_id == member.id}
    assert member_scopes == {"MEMBER_DAY", "MEMBER_HISTORY", "MEMBER_WINDOW"}
    [refused] = [e for e in db.tables.audit if e.action == "security.risk_refused"]
    assert (refused.target_id, refused.member_id) == (member.id, member.id)


async def test_a_purchase_paying_a_referrer_locks_both_members_rows_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    referrer = await given_member(db, "CRM-1")
    friend = await given_member(db, "CRM-2")
    loner = await given_member(db, "CRM-3")
    db.tables.members[friend.id] = replace(db.tables.members[friend.id], referred_by=referrer.id)
    merchant = await given_merchant(db)
    await given_offer(db, points=20, referrer_points=30)
    taken: list[list[int]] = []

    async def purchase(member_id: int, key: str) -> None:
        uow = FakeUnitOfWork(db)
        lock = uow.ledger.lock_balances

        async def spy(member_ids: list[int], *, skip_locked: bool = False) -> object:
            taken.append(sorted(member_ids))
            return await lock(member_ids, skip_locked=skip_locked)

        monkeypatch.setattr(uow.ledger, "lock_balances", spy)
        await post_purchase(
            PostPurchase(linked(db, merchant.id, member_id), Money(1_000, "CNY"), key),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=FixedClock(NOW),
        )

    await purchase(friend.id, "p-1")
    friend_locks = list(taken)
    taken.clear()
    await purchase(loner.id, "p-2")
    loner_locks = list(taken)
    taken.clear()
    db.tables.offers.clear()  # now the one offer that pays referrers is not given to this purchase
    await given_offer(
        db, points=20, referrer_points=30, eligibility=Eligibility(minimum_spend=Money(9_999, "CNY"))
    )
    await purchase(friend.id, "p-3")

    assert friend_locks[0] == sorted([friend.id, referrer.id])
    assert all(ids == [loner.id] for ids in loner_locks)
    assert all(ids == [friend.id] for ids in taken)  # a referrer paid nothing is not locked


async def test_a_purchase_takes_the_members_lock_once_for_its_tier_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1), NOW)
        await seed.tiers.add(Tier(0, "GOLD", "Gold", 2, min_points=1_000), NOW)
        await seed.commit()
    calls: list[int] = []

    async def purchase(minor: int, key: str) -> None:
        uow = FakeUnitOfWork(db)
        lock = uow.ledger.lock_balances

        async def spy(member_ids: list[int], *, skip_locked: bool = False) -> object:
            calls.append(len(member_ids))
            return await lock(member_ids, skip_locked=skip_locked)

        monkeypatch.setattr(uow.ledger, "lock_balances", spy)
        await post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(minor, "CNY"), key),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=FixedClock(NOW),
        )

    await purchase(99, "p-0")  # earns nothing: no posting, the tier check takes the lock
    nothing = list(calls)
    calls.clear()
    await purchase(100, "p-1")  # one point: the posting takes it, the tier check holds it already

    assert (nothing, calls) == ([1], [1])


async def test_a_member_asks_for_itself_whoever_it_names() -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    other = await given_member(db, "CRM-2")
    merchant = await given_merchant(db)

    answer = await qualify_purchase(
        QualifyPurchase(Money(1_000, "CNY"), PresentedMember(member_id=other.id), merchant_id=merchant.id),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert answer.member_id == member.id


async def test_a_held_purchases_review_names_its_merchant() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await buy(db, merchant.id, member.id, 30_000_001)

    assert result.review_id is not None
    review = db.tables.risk.reviews[result.review_id]
    assert (review.member_id, review.purchase_id, review.merchant_id, review.points) == (
        member.id,
        result.purchase_id,
        merchant.id,
        300_000,
    )
