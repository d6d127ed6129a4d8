"""refundPurchase over the fakes: the points go with the money, in proportion and cumulatively; what
the member no longer has becomes a debt; offers and coupons get back what the purchase took; points
the purchase was paid with come back. Each refusal leaves everything as it was."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import (
    AuthorizeRedemption,
    CaptureRedemption,
    DecideRiskReview,
    RedeemReward,
    RefundPurchase,
)
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.lots import LotDraw
from domain.members import Balance, MemberStatus
from domain.money import Money
from domain.offers import CapPeriod, FunderKind, FundingShare, Limits, Mechanic, Offer, Window
from domain.refunds import Refund
from domain.results import RefundResult
from domain.services.maturation import run_maturation
from domain.services.pos_redemptions import authorize_redemption, capture_redemption, create_redemption_code
from domain.services.redemptions import redeem_reward
from domain.services.refunds import refund_purchase
from domain.services.risk import decide_risk_review
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork, PostedEntry
from tests.unit.steps import buy, refund
from tests.unit.test_services import (
    ADMIN,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    given_merchant,
    given_reward,
    lots_of,
    member_actor,
    merchant_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 24 months after NOW
ISSUANCE = Account(AccountKind.ISSUANCE)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def entries(db: FakeDatabase, kind: EntryKind) -> list[PostedEntry]:
    return [p for p in db.tables.journal.values() if p.entry.kind is kind]


def refund_row(db: FakeDatabase, result: RefundResult) -> Refund:
    return db.tables.refunds[result.refund_id]


async def given_offer(db: FakeDatabase, **fields: object) -> Offer:
    values: dict[str, object] = {
        "window": Window(NOW - timedelta(days=1), NOW + timedelta(days=30)),
        "funding": (FundingShare(FunderKind.PROGRAMME, None, 100),),
        "mechanic": Mechanic.BONUS_POINTS,
    } | fields
    seed = FakeUnitOfWork(db)
    async with seed:
        offer = await seed.offers.add(Offer(id=0, version=0, name="bonus", **values), NOW)  # type: ignore[arg-type]
        await seed.commit()
    return offer


# --- a full refund ---------------------------------------------------------------------------------


async def test_a_full_refund_takes_back_every_point_from_the_purchases_own_lot(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 50_000, "pos-1")
    [lot] = lots_of(db, member.id)
    clock.at += timedelta(hours=1)
    uow = FakeUnitOfWork(db)

    result = await refund_purchase(
        RefundPurchase(bought.purchase_id, "r-1", reference=" RF-9 "),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result == RefundResult(
        refund_id=result.refund_id,
        purchase_id=bought.purchase_id,
        member_id=member.id,
        merchant_id=merchant.id,
        amount_minor=50_000,
        currency="CNY",
        points_reversed=500,
        debt_created=0,
        points_returned=0,
        reference="RF-9",
        created_at=clock.now().isoformat(),
    )
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0, 0)
    [posted] = entries(db, EntryKind.REFUND)
    assert (posted.entry.origin_type, posted.entry.origin_id) == (OriginType.REFUND, result.refund_id)
    assert posted.entry.postings == (Posting(Account.available(member.id), -500), Posting(ISSUANCE, 500))
    assert posted.entry.description == "Refunded at Tea House: 500.00 CNY"
    assert posted.at == clock.now()
    assert db.tables.lots[lot.id].remaining == 0
    assert db.tables.lot_draws == [(posted.id, LotDraw(lot.id, 500))]
    purchase = db.tables.purchases[bought.purchase_id]
    assert (purchase.refunded_minor, purchase.points_refunded, purchase.points_pending) == (50_000, 500, 0)
    assert refund_row(db, result) == Refund(
        result.refund_id,
        member.id,
        bought.purchase_id,
        merchant.id,
        Money(50_000, "CNY"),
        500,
        0,
        0,
        "RF-9",
        clock.now(),
    )
    assert db.tables.idempotency[(f"merchant:{merchant.id}", "r-1")].response == {"result": asdict(result)}
    assert uow.commits == 1


async def test_a_retry_answers_the_first_refund_and_moves_nothing_again(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    first = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 4_000)
    before = snapshot(db)

    clock.at += timedelta(minutes=5)
    again = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 4_000)

    assert again == first
    assert db.tables == before
    reused = await raised(refund(db, clock, merchant.id, bought.purchase_id, "r-1", 5_000))
    assert reused.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert db.tables == before


# --- in part, cumulatively ------------------------------------------------------------------------


async def test_partial_refunds_take_back_points_cumulatively_so_rounding_never_drifts(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 1_999, "pos-1")  # 19 points

    tiny = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 1)
    half = await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 999)
    rest = await refund(db, clock, merchant.id, bought.purchase_id, "r-3")

    # 19 x 1 // 1999 = 0; 19 x 1000 // 1999 = 9; then all 19
    assert [r.points_reversed for r in (tiny, half, rest)] == [0, 9, 10]
    assert [r.amount_minor for r in (tiny, half, rest)] == [1, 999, 999]
    assert [p.entry.postings[0].amount for p in entries(db, EntryKind.REFUND)] == [-9, -10]  # none for 0
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0, 0)
    purchase = db.tables.purchases[bought.purchase_id]
    assert (purchase.refunded_minor, purchase.points_refunded) == (1_999, 19)
    assert refund_row(db, tiny).points_reversed == 0


async def test_exactly_what_is_left_can_be_refunded_and_one_minor_unit_more_cannot(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 6_000)
    before = snapshot(db)

    over = await raised(refund(db, clock, merchant.id, bought.purchase_id, "r-2", 4_001))

    assert (over.code, over.field) == (ErrorCode.VALIDATION, ("amount",))
    assert over.message == "only 40.00 CNY of the purchase is left to refund"
    assert db.tables == before  # a validation failure is not even stored under its key
    last = await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 4_000)
    assert (last.amount_minor, last.points_reversed) == (4_000, 40)
    assert balance(db, member.id).available == 0
    done = await raised(refund(db, clock, merchant.id, bought.purchase_id, "r-3"))
    assert (done.code, done.message) == (ErrorCode.VALIDATION, "the purchase is already fully refunded")


@pytest.mark.parametrize(
    ("minor", "currency", "field"),
    [
        (0, "CNY", ("amount", "amountMinor")),
        (-5, "CNY", ("amount", "amountMinor")),
        (100, "HKD", ("amount", "currency")),
    ],
)
async def test_a_zero_negative_or_foreign_amount_is_validation_and_changes_nothing(
    clock: FixedClock, minor: int, currency: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    before = snapshot(db)

    refused = await raised(refund(db, clock, merchant.id, bought.purchase_id, "r-1", minor, currency))

    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, field)
    assert db.tables == before


# --- who may refund what ----------------------------------------------------------------------------


async def test_another_merchants_purchase_is_not_found_like_one_that_does_not_exist(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_merchant(db)
    noodles = await given_merchant(db, "Noodle Bar")
    bought = await buy(db, clock, tea.id, member.id, 10_000, "pos-1")
    before = snapshot(db)

    theirs = await raised(refund(db, clock, noodles.id, bought.purchase_id, "r-1"))
    unknown = await raised(refund(db, clock, noodles.id, bought.purchase_id + 1000, "r-2"))

    assert (theirs.code, theirs.field, theirs.message) == (
        ErrorCode.NOT_FOUND,
        ("purchaseId",),
        "no such purchase",
    )
    assert (unknown.code, unknown.field, unknown.message) == (theirs.code, theirs.field, theirs.message)
    assert db.tables.purchases == before.purchases
    assert db.tables.journal == before.journal
    assert balance(db, member.id).available == 100


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN, Role.PARTNER])
async def test_only_a_merchant_refunds(clock: FixedClock, role: Role) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    before = snapshot(db)

    refused = await raised(
        refund_purchase(
            RefundPurchase(bought.purchase_id, "r-1"),
            actor=Actor(role, "someone", member_id=member.id, merchant_id=merchant.id),
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    assert refused.code is ErrorCode.FORBIDDEN
    assert db.tables == before


async def test_a_locked_members_purchase_is_refunded_all_the_same(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.members.set_status(member.id, MemberStatus.LOCKED, "fraud check")
        await seed.commit()

    result = await refund(db, clock, merchant.id, bought.purchase_id, "r-1")

    assert result.points_reversed == 100
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0, 0)


# --- where the points come from --------------------------------------------------------------------


async def test_points_already_spent_become_a_debt_that_later_earnings_repay_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # 100 points
    mug = await given_reward(db, 80)
    await redeem_reward(
        RedeemReward(mug.id, "w-1"), actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=clock
    )
    [own] = lots_of(db, member.id)

    result = await refund(db, clock, merchant.id, bought.purchase_id, "r-1")

    assert (result.points_reversed, result.debt_created) == (100, 80)
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 80, 80)
    [posted] = entries(db, EntryKind.REFUND)
    assert posted.entry.postings == (
        Posting(Account.available(member.id), -20),
        Posting(Account(AccountKind.MEMBER_DEBT, member.id), -80),
        Posting(ISSUANCE, 100),
    )
    assert posted.entry.description == "Refunded at Tea House: 100.00 CNY (80 points owed)"
    assert db.tables.lots[own.id].remaining == 0

    # then the next purchases repay the debt before the member has points again
    await buy(db, clock, merchant.id, member.id, 3_000, "pos-2")
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 30, 80, 50)
    assert [lot.remaining for lot in lots_of(db, member.id)] == [0]  # no new lot: all went to the debt
    await buy(db, clock, merchant.id, member.id, 7_000, "pos-3")
    assert balance(db, member.id) == Balance(member.id, 20, 0, 0, 100, 80, 0)
    assert sorted(lot.remaining for lot in lots_of(db, member.id)) == [0, 20]


async def test_the_purchases_own_lots_go_first_then_the_members_others_soonest_expiring(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    later = await given_lot(db, member.id, 50, datetime(2027, 1, 1, tzinfo=UTC))
    sooner = await given_lot(db, member.id, 50, datetime(2026, 6, 1, tzinfo=UTC))
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # expires 2026-03-01: soonest
    own = max(db.tables.lots)
    seed = FakeUnitOfWork(db)  # 70 of the purchase's own 100 are spent
    async with seed:
        await seed.lots.consume(0, member.id, [LotDraw(own, 70)], NOW)
        await seed.commit()

    await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 8_000)  # 80 points

    [posted] = entries(db, EntryKind.REFUND)
    assert db.tables.lot_draws[-2:] == [(posted.id, LotDraw(own, 30)), (posted.id, LotDraw(sooner, 50))]
    assert [db.tables.lots[i].remaining for i in (own, sooner, later)] == [0, 0, 50]


async def test_pending_points_are_reversed_first_and_only_the_rest_matures(clock: FixedClock) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, pending_days=14))
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    assert balance(db, member.id) == Balance(member.id, 0, 100, 0, 100, 0)

    result = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 4_000)

    assert (result.points_reversed, result.debt_created) == (40, 0)
    assert balance(db, member.id) == Balance(member.id, 0, 60, 0, 60, 0)
    [posted] = entries(db, EntryKind.REFUND)
    assert posted.entry.postings == (
        Posting(Account(AccountKind.MEMBER_PENDING, member.id), -40),
        Posting(ISSUANCE, 40),
    )
    assert db.tables.purchases[bought.purchase_id].points_pending == 60
    assert lots_of(db, member.id) == []

    clock.at += timedelta(days=14)
    run = await run_maturation(lambda: FakeUnitOfWork(db), clock)

    assert (run.purchases, run.points) == (1, 60)
    assert balance(db, member.id) == Balance(member.id, 60, 0, 0, 60, 0)


async def test_an_expired_point_is_never_taken_back_the_lot_expires_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # its lot expires at EXPIRES
    other = await given_lot(db, member.id, 30, datetime(2027, 1, 1, tzinfo=UTC))
    clock.at = EXPIRES  # the first instant the lot is expired

    result = await refund(db, clock, merchant.id, bought.purchase_id, "r-1")

    [expired] = entries(db, EntryKind.EXPIRE)
    assert expired.entry.postings == (
        Posting(Account.available(member.id), -100),
        Posting(Account(AccountKind.EXPIRY), 100),
    )
    assert (result.points_reversed, result.debt_created) == (100, 70)
    assert db.tables.lots[other].remaining == 0
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 30, 0, 70)


async def test_a_microsecond_before_its_expiry_the_lot_is_still_taken_back(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    clock.at = EXPIRES - timedelta(microseconds=1)

    result = await refund(db, clock, merchant.id, bought.purchase_id, "r-1")

    assert entries(db, EntryKind.EXPIRE) == []
    assert (result.points_reversed, result.debt_created) == (100, 0)
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0, 0)


# --- what the purchase took from offers and coupons ------------------------------------------------


async def test_an_offers_budget_comes_back_in_proportion_and_its_use_and_cap_once_fully_refunded(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(
        db, points=33, limits=Limits(budget_points=1_000, per_member=1, per_member_period=CapPeriod.OFFER)
    )
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    assert bought.points_earned == 133
    assert db.tables.offer_usage[offer.id].uses == 1

    half = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 5_000)

    assert half.points_reversed == 66  # 133 x 1/2, rounded down
    used = db.tables.offer_usage[offer.id]
    assert (used.points, used.uses) == (33 - 16, 1)  # 33 x 1/2 = 16 back; the use stays
    [row] = db.tables.purchase_awards.values()
    assert (row.refunded_points, row.use_returned) == (16, False)
    # the cap still counts: a second purchase gets no bonus
    assert (await buy(db, clock, merchant.id, member.id, 1_000, "pos-2")).points_earned == 10

    await refund(db, clock, merchant.id, bought.purchase_id, "r-2")

    used = db.tables.offer_usage[offer.id]
    assert (used.points, used.uses) == (0, 0)
    [row] = db.tables.purchase_awards.values()
    assert (row.refunded_points, row.use_returned) == (33, True)
    assert (
        await buy(db, clock, merchant.id, member.id, 1_000, "pos-3")
    ).points_earned == 43  # the cap is free again


async def test_a_coupons_use_comes_back_only_with_the_refund_that_completes_the_purchase(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, points=20, requires_coupon=True)
    seed = FakeUnitOfWork(db)
    async with seed:
        [coupon] = await seed.offers.add_coupons(offer.id, ["SPRING"], 1, NOW)
        await seed.commit()
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1", coupon_code="spring")
    assert (bought.points_earned, db.tables.coupons[coupon.id].uses) == (120, 1)

    await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 9_999)
    assert db.tables.coupons[coupon.id].uses == 1
    await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 1)
    assert db.tables.coupons[coupon.id].uses == 0
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0, 0)


async def test_points_paid_at_the_till_come_back_with_the_money_dated_like_those_spent(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    soon = datetime(2025, 1, 1, tzinfo=UTC)
    await given_lot(db, member.id, 300, soon)
    bought = await buy(db, clock, merchant.id, member.id, 20_000, "pos-1")  # 200 points, expiring EXPIRES
    code = await create_redemption_code(actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=clock)
    hold = await authorize_redemption(
        AuthorizeRedemption(code=code.code, idempotency_key="a-1", points=250),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    await capture_redemption(
        CaptureRedemption(hold.redemption_id, "c-1", purchase_id=bought.purchase_id),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert balance(db, member.id) == Balance(member.id, 250, 0, 0, 500, 250)  # 50 + 200 left

    tiny = await refund(db, clock, merchant.id, bought.purchase_id, "r-0", 1)  # 250 x 1/20000: none back
    assert (tiny.points_returned, tiny.points_reversed, tiny.debt_created) == (0, 0, 0)
    assert entries(db, EntryKind.RETURN) == []
    one = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 79)  # 250 x 80/20000: the first
    assert (one.points_returned, one.points_reversed) == (1, 0)
    quarter = await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 4_920)

    # 250 x 1/4 = 62 paid points back in all, then 200 x 1/4 = 50 earned points taken
    assert (quarter.points_returned, quarter.points_reversed, quarter.debt_created) == (61, 50, 0)
    returned = entries(db, EntryKind.RETURN)[-1]
    assert returned.entry.postings == (
        Posting(Account(AccountKind.REDEMPTION), -61),
        Posting(Account.available(member.id), 61),
    )
    assert (returned.entry.origin_type, returned.entry.origin_id) == (OriginType.REFUND, quarter.refund_id)
    new_lot = max(db.tables.lots.values(), key=lambda lot: lot.id)
    assert (new_lot.points, new_lot.expires_at) == (61, soon)  # dated like the soonest the hold drew
    assert balance(db, member.id) == Balance(member.id, 262, 0, 0, 450, 188)
    assert db.tables.redemptions[hold.redemption_id].points_returned == 62

    rest = await refund(db, clock, merchant.id, bought.purchase_id, "r-3")

    assert (rest.points_returned, rest.points_reversed) == (250 - 62, 150)
    assert db.tables.redemptions[hold.redemption_id].points_returned == 250
    assert balance(db, member.id) == Balance(member.id, 300, 0, 0, 300, 0)


async def test_a_merchant_token_naming_no_merchant_is_not_found(clock: FixedClock) -> None:
    db = FakeDatabase()
    refused = await raised(
        refund_purchase(
            RefundPurchase(1, "r-1"), actor=Actor(Role.MERCHANT, "pos"), uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert (refused.code, refused.message) == (ErrorCode.NOT_FOUND, "the token names no merchant")
    assert db.tables.idempotency == {}


async def test_the_merchants_refund_reference_is_at_most_100_characters(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")

    too_long = await raised(
        refund(db, clock, merchant.id, bought.purchase_id, "r-1", 100, reference="R" * 101)
    )
    longest = await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 100, reference="R" * 100)

    assert (too_long.code, too_long.field) == (ErrorCode.VALIDATION, ("reference",))
    assert longest.reference == "R" * 100


# --- risk reviews ----------------------------------------------------------------------------------


async def held_purchase(db: FakeDatabase, clock: FixedClock) -> tuple[int, int, int, int]:
    """A purchase so large its points are held for review: (member, merchant, purchase, review)."""
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 30_000_001, "big")
    assert bought.review_id is not None
    return member.id, merchant.id, bought.purchase_id, bought.review_id


async def decide(db: FakeDatabase, clock: FixedClock, review_id: int, approve: bool) -> None:
    await decide_risk_review(
        DecideRiskReview(review_id, approve, f"d-{review_id}"),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )


async def test_a_purchase_whose_points_are_under_review_is_not_refunded_until_decided(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member_id, merchant_id, purchase_id, _ = await held_purchase(db, clock)
    before = snapshot(db)

    refused = await raised(refund(db, clock, merchant_id, purchase_id, "r-1", 1_000))

    assert (refused.code, refused.field, refused.message) == (
        ErrorCode.RISK_REVIEW,
        ("purchaseId",),
        "the purchase's points are under risk review: an admin approves or rejects them first",
    )
    event = db.tables.audit.pop()  # the refusal is audited, naming the member; nothing else changed
    assert (event.action, event.target_type, event.target_id, event.member_id) == (
        "security.risk_refused",
        "Member",
        member_id,
        member_id,
    )
    assert event.after == {"reason": refused.message}
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member_id).under_review == 300_000


async def test_after_a_rejection_a_refund_gives_the_money_back_and_takes_no_points(clock: FixedClock) -> None:
    db = FakeDatabase()
    member_id, merchant_id, purchase_id, review_id = await held_purchase(db, clock)
    await decide(db, clock, review_id, approve=False)
    before = balance(db, member_id)

    half = await refund(db, clock, merchant_id, purchase_id, "r-1", 15_000_000)
    rest = await refund(db, clock, merchant_id, purchase_id, "r-2")

    assert [(r.points_reversed, r.debt_created) for r in (half, rest)] == [(0, 0), (0, 0)]
    assert entries(db, EntryKind.REFUND) == []
    assert balance(db, member_id) == before
    purchase = db.tables.purchases[purchase_id]
    assert (purchase.refunded_minor, purchase.points_refunded, purchase.points_pending) == (
        30_000_001,
        300_000,
        0,
    )


async def test_after_an_approval_a_refund_takes_the_points_back_like_any_other(clock: FixedClock) -> None:
    db = FakeDatabase()
    member_id, merchant_id, purchase_id, review_id = await held_purchase(db, clock)
    await decide(db, clock, review_id, approve=True)

    result = await refund(db, clock, merchant_id, purchase_id, "r-1", 10_000_000)

    # 300_000 x 10_000_000 // 30_000_001
    assert (result.points_reversed, result.debt_created) == (99_999, 0)
    assert balance(db, member_id).available == 300_000 - 99_999
    assert db.tables.purchases[purchase_id].points_refunded == 99_999


# --- the purchase's profile counters ---------------------------------------------------------------


async def test_the_refunded_money_comes_off_the_purchases_day_and_the_last_refund_takes_the_purchase_off(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    [key] = db.tables.profiles.activity
    assert key == (member.id, NOW.date(), merchant.id, db.tables.purchases[bought.purchase_id].channel, "CNY")
    assert db.tables.profiles.activity[key] == (1, 10_000)
    clock.at += timedelta(days=3)  # the refund counts on the purchase's day, not its own

    await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 4_000)
    assert db.tables.profiles.activity == {key: (1, 6_000)}
    await refund(db, clock, merchant.id, bought.purchase_id, "r-2", 5_999)
    assert db.tables.profiles.activity == {key: (1, 1)}
    await refund(db, clock, merchant.id, bought.purchase_id, "r-3", 1)
    assert db.tables.profiles.activity == {key: (0, 0)}


# --- where the points come from, more --------------------------------------------------------------


async def test_the_purchases_own_lot_goes_first_even_when_another_expires_sooner(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    sooner = await given_lot(db, member.id, 50, datetime(2025, 6, 1, tzinfo=UTC))
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # expires 2026-03-01
    own = max(db.tables.lots)
    clock.at += timedelta(minutes=30)

    await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 4_000)

    [posted] = entries(db, EntryKind.REFUND)
    assert db.tables.lot_draws == [(posted.id, LotDraw(own, 40))]
    assert db.tables.lot_draws_at[posted.id] == clock.now()
    assert [db.tables.lots[i].remaining for i in (own, sooner)] == [60, 50]


# --- points paid at the till, more -----------------------------------------------------------------


async def pay_at_till(
    db: FakeDatabase,
    clock: FixedClock,
    merchant_id: int,
    member_id: int,
    purchase_id: int,
    points: int,
    key: str,
) -> int:
    code = await create_redemption_code(actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=clock)
    hold = await authorize_redemption(
        AuthorizeRedemption(code=code.code, idempotency_key=f"a-{key}", points=points),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    await capture_redemption(
        CaptureRedemption(hold.redemption_id, f"c-{key}", purchase_id=purchase_id),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    return hold.redemption_id


async def test_each_payment_in_points_comes_back_on_its_own_and_a_refund_returns_their_sum(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 1_000, datetime(2025, 1, 1, tzinfo=UTC))
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # 100 points
    small = await pay_at_till(db, clock, merchant.id, member.id, bought.purchase_id, 10, "1")
    large = await pay_at_till(db, clock, merchant.id, member.id, bought.purchase_id, 500, "2")
    clock.at += timedelta(hours=2)

    first = await refund(db, clock, merchant.id, bought.purchase_id, "r-1", 500)  # 1/20: 0 of 10, 25 of 500
    assert first.points_returned == 25
    assert [db.tables.redemptions[r].points_returned for r in (small, large)] == [0, 25]
    [returned] = entries(db, EntryKind.RETURN)
    assert returned.at == clock.now()
    assert returned.entry.member_id == member.id
    assert returned.entry.description == "Returned: points paid at Tea House, refunded"
    new_lot = db.tables.lots[max(db.tables.lots)]
    assert (new_lot.member_id, new_lot.points, new_lot.earned_at) == (member.id, 25, clock.now())

    rest = await refund(db, clock, merchant.id, bought.purchase_id, "r-2")

    assert rest.points_returned == 10 + 475
    assert [db.tables.redemptions[r].points_returned for r in (small, large)] == [10, 500]
    assert refund_row(db, rest).points_returned == 485
    assert balance(db, member.id).available == 1_000 + 100 - 510 + 510 - 100


# --- a broken invariant ----------------------------------------------------------------------------


async def test_a_purchase_changed_without_its_members_lock_is_refused_as_it_now_stands(
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    uow = FakeUnitOfWork(db)
    take = uow.refunds.take

    async def refunded_meanwhile(*args: Any) -> bool:
        # a writer that broke the lock order refunded 70.00 behind this refund's back
        row = db.tables.purchases[bought.purchase_id]
        db.tables.purchases[bought.purchase_id] = replace(row, refunded_minor=7_000)
        return await take(*args)

    monkeypatch.setattr(uow.refunds, "take", refunded_meanwhile)

    refused = await raised(
        refund_purchase(
            RefundPurchase(bought.purchase_id, "r-1", Money(5_000, "CNY")),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (refused.code, refused.field, refused.message) == (
        ErrorCode.VALIDATION,
        ("amount",),
        "only 30.00 CNY of the purchase is left to refund",
    )


async def test_a_purchase_whose_points_changed_without_its_members_lock_fails_loudly(
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, pending_days=14))
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    uow = FakeUnitOfWork(db)
    take = uow.refunds.take

    async def matured_meanwhile(*args: Any) -> bool:
        row = db.tables.purchases[bought.purchase_id]
        db.tables.purchases[bought.purchase_id] = replace(row, points_pending=0)
        return await take(*args)

    monkeypatch.setattr(uow.refunds, "take", matured_meanwhile)

    with pytest.raises(RuntimeError) as failed:
        await refund_purchase(
            RefundPurchase(bought.purchase_id, "r-1", Money(5_000, "CNY")),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )

    assert str(failed.value) == (
        f"purchase {bought.purchase_id} changed while its member's balance row was locked"
    )


async def test_a_payment_in_points_returned_without_its_members_lock_fails_loudly(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 1_000, datetime(2025, 1, 1, tzinfo=UTC))
    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    paid = await pay_at_till(db, clock, merchant.id, member.id, bought.purchase_id, 200, "1")
    uow = FakeUnitOfWork(db)
    add_returned = uow.redemptions.add_returned

    async def returned_meanwhile(*args: Any) -> bool:
        row = db.tables.redemptions[paid]
        db.tables.redemptions[paid] = replace(row, points_returned=1)
        return await add_returned(*args)

    monkeypatch.setattr(uow.redemptions, "add_returned", returned_meanwhile)

    with pytest.raises(RuntimeError) as failed:
        await refund_purchase(
            RefundPurchase(bought.purchase_id, "r-1"), actor=merchant_actor(merchant.id), uow=uow, clock=clock
        )

    assert str(failed.value) == f"redemption {paid} changed while its member's row was locked"
