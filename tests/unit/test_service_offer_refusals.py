"""Offer administration's refusals and records over the fakes: each refusal with the message and field
a client reads, changing nothing; coupons made as asked and audited; status changes audited with the
offer before and after."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.clock import FixedClock
from domain.commands import CreateTier
from domain.errors import ErrorCode
from domain.merchants import Channel, PartnerKind
from domain.money import Money
from domain.offers import (
    Coupon,
    Eligibility,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    Trigger,
    Window,
)
from domain.segments import SegmentKind, SegmentStatus
from domain.services.offers import (
    change_offer_status,
    claim_coupon,
    create_offer,
    generate_coupons,
    update_offer,
)
from domain.services.tiers import create_tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, given_member, given_merchant, member_actor, raised, snapshot

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=1), NOW + timedelta(days=10))
PROGRAMME = (FundingShare(FunderKind.PROGRAMME, None, 100),)


def draft(**fields: object) -> Offer:
    values: dict[str, object] = {
        "name": "Spring bonus",
        "mechanic": Mechanic.BONUS_POINTS,
        "window": WINDOW,
        "funding": PROGRAMME,
        "points": 10,
    } | fields
    return Offer(id=0, version=0, **values)  # type: ignore[arg-type]


async def create(db: FakeDatabase, offer: Offer) -> Offer:
    return await create_offer(offer, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def coupons(
    db: FakeDatabase,
    offer_id: int,
    count: int | None = None,
    shared: str | None = None,
    uses: int | None = None,
) -> list[Coupon]:
    return await generate_coupons(
        offer_id,
        count=count,
        shared_code=shared,
        max_uses=uses,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )


async def test_a_shared_code_is_made_as_given_and_audited() -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))

    [made] = await generate_coupons(
        offer.id,
        count=None,
        shared_code=" spring24 ",
        max_uses=3,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    assert (made.offer_id, made.code, made.max_uses, made.uses, made.member_id) == (
        offer.id,
        "SPRING24",
        3,
        0,
        None,
    )
    event = db.tables.audit[-1]
    assert (event.actor, event.action, event.target_type, event.target_id, event.before, event.after) == (
        "admin-ada",
        "generateCoupons",
        "Offer",
        offer.id,
        None,
        {"coupons": 1},
    )
    assert (event.request_id, event.at) == ("req-1", NOW)


async def test_coupon_requests_are_refused_with_their_reasons_and_make_nothing() -> None:
    db = FakeDatabase()
    plain = await create(db, draft())
    coupon_only = await create(db, draft(name="Coupon only", requires_coupon=True))
    await coupons(db, coupon_only.id, shared="TAKEN", uses=1)
    before = snapshot(db)

    errors = [
        await raised(coupons(db, coupon_only.id)),
        await raised(coupons(db, coupon_only.id, count=1, shared="X")),
        await raised(coupons(db, coupon_only.id, count=10_001)),
        await raised(coupons(db, coupon_only.id, shared="TWO WORDS", uses=1)),
        await raised(coupons(db, coupon_only.id, shared="", uses=1)),
        await raised(coupons(db, 404, count=1)),
        await raised(coupons(db, plain.id, count=1)),
        await raised(coupons(db, coupon_only.id, shared="taken", uses=5)),
    ]

    assert [(e.code, e.message, e.field) for e in errors] == [
        (ErrorCode.VALIDATION, "give either count or sharedCode", ("count",)),
        (ErrorCode.VALIDATION, "give either count or sharedCode", ("count",)),
        (ErrorCode.VALIDATION, "at most 10000 at once", ("count",)),
        (ErrorCode.VALIDATION, "no spaces", ("sharedCode",)),
        (ErrorCode.VALIDATION, "must not be blank", ("sharedCode",)),
        (ErrorCode.NOT_FOUND, "no such offer", ("offerId",)),
        (ErrorCode.VALIDATION, "this offer does not take coupons", ("offerId",)),
        (ErrorCode.ALREADY_EXISTS, "this code is taken", ("sharedCode",)),
    ]
    assert db.tables == before


async def test_a_status_change_is_audited_with_the_offer_before_and_after() -> None:
    db = FakeDatabase()
    offer = await create(db, draft())
    later = NOW + timedelta(hours=1)

    paused = await change_offer_status(
        offer.id, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(later)
    )

    assert paused == db.tables.offers[offer.id]
    assert paused.status is OfferStatus.PAUSED
    event = db.tables.audit[-1]
    assert (event.action, event.target_type, event.target_id, event.at) == (
        "pausedOffer",
        "Offer",
        offer.id,
        later,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("ACTIVE", "PAUSED")


@pytest.mark.parametrize("archived", [False, True])
async def test_status_changes_and_updates_name_the_offer_they_cannot_change(archived: bool) -> None:
    db = FakeDatabase()
    offer = await create(db, draft())
    if archived:
        await change_offer_status(
            offer.id, OfferStatus.ARCHIVED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    target = offer.id if archived else 404
    before = snapshot(db)

    errors = [
        await raised(
            change_offer_status(
                target, OfferStatus.ACTIVE, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
        await raised(
            update_offer(
                replace(draft(), id=target), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
    ]

    expected = (
        (ErrorCode.VALIDATION, "an archived offer cannot be changed", ("offerId",))
        if archived
        else (ErrorCode.NOT_FOUND, "no such offer", ("offerId",))
    )
    assert [(e.code, e.message, e.field) for e in errors] == [expected, expected]
    assert db.tables == before


async def test_a_coupon_is_claimed_once_into_one_wallet() -> None:
    db = FakeDatabase()
    first, second = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    offer = await create(db, draft(requires_coupon=True))
    [made] = await coupons(db, offer.id, count=1)

    claimed = await claim_coupon(
        made.code.lower(), actor=member_actor(first.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    again = await claim_coupon(
        made.code, actor=member_actor(first.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    taken = await raised(
        claim_coupon(made.code, actor=member_actor(second.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )
    unknown = await raised(
        claim_coupon("NOPE", actor=member_actor(second.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )
    too_long = await raised(
        claim_coupon("C" * 41, actor=member_actor(second.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )

    assert (claimed.code, claimed.member_id) == (made.code, first.id)
    assert again == claimed
    assert [(e.code, e.message, e.field) for e in (taken, unknown, too_long)] == [
        (ErrorCode.LIMIT_REACHED, "this coupon is already claimed or cannot be claimed", ("code",)),
        (ErrorCode.NOT_FOUND, "no such coupon", ("code",)),
        (ErrorCode.VALIDATION, "must be at most 40 characters", ("code",)),
    ]


async def test_what_an_offer_names_must_exist_and_the_first_unknown_is_named() -> None:
    db = FakeDatabase()
    shop = await given_merchant(db)
    async with (seed := FakeUnitOfWork(db)):
        brand = await seed.partners.add(name="Bank of Tea", kind=PartnerKind.RETAIL, at=NOW)
        live = await seed.segments.add(
            name="live", description=None, kind=SegmentKind.STATIC, rule=None, at=NOW
        )
        old = await seed.segments.add(
            name="old", description=None, kind=SegmentKind.STATIC, rule=None, at=NOW
        )
        await seed.commit()
    db.tables.segments.segments[old.id] = replace(old, status=SegmentStatus.ARCHIVED)
    gold = await create_tier(
        CreateTier("gold", "Gold", 1), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    before = snapshot(db)

    def naming(**rules: Any) -> Offer:
        return draft(eligibility=Eligibility(**rules))

    errors = [
        await raised(create(db, offer))
        for offer in (
            naming(merchant_ids=frozenset({905, shop.id, 904})),
            naming(partner_ids=frozenset({905, brand.id, 904})),
            naming(tier_ids=frozenset({905, gold.id, 904})),
            naming(segment_ids=frozenset({905, live.id, 904})),
            naming(segment_ids=frozenset({live.id, old.id})),
            draft(funding=(FundingShare(FunderKind.MERCHANT, 904, 100),)),
            draft(funding=(FundingShare(FunderKind.PARTNER, 904, 100),)),
            draft(funding=(FundingShare(FunderKind.PARTNER, shop.id, 100),)),  # a merchant, not a brand
        )
    ]

    assert [(e.code, e.message, e.field) for e in errors] == [
        (ErrorCode.NOT_FOUND, "no merchant 904", ("merchantIds",)),
        (ErrorCode.NOT_FOUND, "no partner brand 904", ("partnerIds",)),
        (ErrorCode.NOT_FOUND, "no tier 904", ("tierIds",)),
        (ErrorCode.NOT_FOUND, "no segment 904", ("segmentIds",)),
        (ErrorCode.VALIDATION, f"segment {old.id} is archived", ("segmentIds",)),
        (ErrorCode.NOT_FOUND, "no merchant 904", ("funding", "funderId")),
        (ErrorCode.NOT_FOUND, "no partner brand 904", ("funding", "funderId")),
        (ErrorCode.NOT_FOUND, f"no partner brand {shop.id}", ("funding", "funderId")),
    ]
    assert db.tables == before
    named = await create(
        db,
        replace(
            naming(
                merchant_ids=frozenset({shop.id}),
                partner_ids=frozenset({brand.id}),
                tier_ids=frozenset({gold.id}),
                segment_ids=frozenset({live.id}),
            ),
            funding=(
                FundingShare(FunderKind.MERCHANT, shop.id, 60),
                FundingShare(FunderKind.PARTNER, brand.id, 40),
            ),
        ),
    )
    assert db.tables.offers[named.id].eligibility == named.eligibility


async def test_a_money_budget_may_equal_the_cashback_already_given_but_not_go_below_it() -> None:
    db = FakeDatabase()
    member, shop = await given_member(db), await given_merchant(db)
    cashback = await create(
        db,
        draft(
            mechanic=Mechanic.CASHBACK_MONEY,
            percent=Decimal(10),
            limits=Limits(budget_money=Money(10_000, "CNY")),
        ),
    )
    await buy(db, FixedClock(NOW), shop.id, member.id, 2_500, "p-1")
    assert db.tables.offer_usage[cashback.id].money_minor == 250
    before = snapshot(db)

    def budget(minor: int) -> Offer:
        return replace(cashback, limits=Limits(budget_money=Money(minor, "CNY")))

    below = await raised(
        update_offer(budget(249), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )

    assert (below.code, below.message, below.field) == (
        ErrorCode.VALIDATION,
        "the money already given is more than that",
        ("limits", "budgetMoney"),
    )
    assert db.tables == before
    exact = await update_offer(budget(250), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    assert exact.limits.budget_money == Money(250, "CNY")


@pytest.mark.parametrize(
    "rules",
    [
        Eligibility(merchant_ids=frozenset({1})),
        Eligibility(partner_ids=frozenset({1})),
        Eligibility(channels=frozenset({Channel.ONLINE})),
        Eligibility(minimum_spend=Money(1_000, "CNY")),
    ],
    ids=["merchants", "partners", "channels", "minimum-spend"],
)
async def test_a_sign_up_offer_takes_no_purchase_condition(rules: Eligibility) -> None:
    db = FakeDatabase()

    refused = await raised(create(db, draft(trigger=Trigger.SIGN_UP, eligibility=rules)))

    assert (refused.code, refused.message, refused.field) == (
        ErrorCode.VALIDATION,
        "sign-up offers and red packets give bonus points, with no purchase conditions",
        ("trigger",),
    )
    assert db.tables.offers == {}


async def test_a_red_packet_takes_no_segment_condition() -> None:
    refused = await raised(
        create(
            FakeDatabase(),
            draft(trigger=Trigger.RED_PACKET, eligibility=Eligibility(segment_ids=frozenset())),
        )
    )

    assert (refused.message, refused.field) == (
        "sign-up offers and red packets take no tier, dormancy or segment condition",
        ("trigger",),
    )


@pytest.mark.parametrize("path", ["threshold", "cap", "minimumSpend", "budgetMoney"])
async def test_every_money_term_is_checked_on_its_own_field(path: str) -> None:
    def with_money(money: Money) -> Offer:
        every: dict[str, dict[str, object]] = {
            "threshold": {
                "mechanic": Mechanic.SPEND_AND_SAVE,
                "amount": Money(100, "CNY"),
                "threshold": money,
            },
            "cap": {"mechanic": Mechanic.PERCENT_DISCOUNT, "percent": Decimal(10), "cap": money},
            "minimumSpend": {"eligibility": Eligibility(minimum_spend=money)},
            "budgetMoney": {"limits": Limits(budget_money=money)},
        }
        return draft(**every[path])

    db = FakeDatabase()
    foreign = await raised(create(db, with_money(Money(5_000, "USD"))))
    nothing = await raised(create(db, with_money(Money(0, "CNY"))))

    assert [(e.code, e.message, e.field) for e in (foreign, nothing)] == [
        (ErrorCode.VALIDATION, "currency 'USD' is not accepted by this programme", (path, "currency")),
        (ErrorCode.VALIDATION, "must be greater than zero", (path, "amountMinor"))
        if path != "threshold"
        # a threshold of nothing is never above the amount off: the mechanic's own check says so first
        else (ErrorCode.VALIDATION, "spend-and-save needs a threshold above the amount off", ("threshold",)),
    ]
    assert db.tables.offers == {}


async def test_the_widest_hours_and_days_and_an_empty_segment_list_are_accepted() -> None:
    db = FakeDatabase()
    widest = replace(WINDOW, from_hour=0, to_hour=24, days_of_week=frozenset({1, 7}))

    offer = await create(db, draft(window=widest, eligibility=Eligibility(segment_ids=frozenset())))

    assert (offer.window, offer.eligibility.segment_ids) == (widest, None)


async def test_a_mechanics_terms_are_finite_and_spend_and_save_needs_its_amount() -> None:
    db = FakeDatabase()

    errors = [
        await raised(create(db, draft(mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal("NaN")))),
        await raised(create(db, draft(mechanic=Mechanic.BONUS_POINTS, multiplier=Decimal("Infinity")))),
        await raised(create(db, draft(mechanic=Mechanic.CASHBACK_POINTS, percent=Decimal("NaN")))),
        await raised(create(db, draft(mechanic=Mechanic.SPEND_AND_SAVE, threshold=Money(5_000, "CNY")))),
    ]

    assert [(e.code, e.message, e.field) for e in errors] == [
        (ErrorCode.VALIDATION, "must be a finite number", ("multiplier",)),
        (ErrorCode.VALIDATION, "must be a finite number", ("multiplier",)),
        (ErrorCode.VALIDATION, "must be a finite number", ("percent",)),
        (ErrorCode.VALIDATION, "the amount off is required", ("amount",)),
    ]
    assert db.tables.offers == {}


async def test_an_update_is_audited_as_the_admins_change_to_that_offer() -> None:
    db = FakeDatabase()
    offer = await create(db, draft())

    await update_offer(replace(offer, points=20), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))

    event = db.tables.audit[-1]
    assert (event.actor, event.action, event.target_type, event.target_id, event.request_id) == (
        "admin-ada",
        "updateOffer",
        "Offer",
        offer.id,
        "req-1",
    )


async def test_claiming_a_coupon_locks_the_members_balance_row_before_the_coupon() -> None:
    """The lock order, so the coupon.issued event takes its place in the member's commit order."""
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    offer = await create(db, draft(requires_coupon=True))
    [made] = await coupons(db, offer.id, count=1)
    uow = FakeUnitOfWork(db)
    calls: list[tuple[str, object]] = []
    lock, claim = uow.ledger.lock_balances, uow.offers.claim_coupon

    async def locking(member_ids: Any, *, skip_locked: bool = False) -> Any:
        calls.append(("lock", sorted(member_ids)))
        return await lock(member_ids, skip_locked=skip_locked)

    async def claiming(code: str, member_id: int, at: datetime) -> Any:
        calls.append(("claim", code))
        return await claim(code, member_id, at)

    uow.ledger.lock_balances = locking  # type: ignore[method-assign]  # a spy on the call order
    uow.offers.claim_coupon = claiming  # type: ignore[method-assign]  # a spy on the call order

    await claim_coupon(made.code, actor=member_actor(member.id), uow=uow, clock=FixedClock(NOW))

    assert calls == [("lock", [member.id]), ("claim", made.code)]
