"""Offer administration and a member's offers, over the fakes: every part of an offer checked at its
limits, new versions that never go below what was already given, coupons, status changes audited,
and the offers a member can use now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.members import MemberStatus
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
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
    Trigger,
    Usage,
    Window,
)
from domain.services import offers as service
from domain.services.offers import (
    change_offer_status,
    claim_coupon,
    create_offer,
    generate_coupons,
    update_offer,
)
from domain.services.wallet_offers import usable_offers
from tests.unit.fakes import FakeDatabase, FakeOfferWalletReader, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, given_member, given_merchant, member_actor, raised, snapshot

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=1), NOW + timedelta(days=10))
PROGRAMME = (FundingShare(FunderKind.PROGRAMME, None, 100),)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def draft(**fields: object) -> Offer:
    values: dict[str, object] = {
        "name": "Spring bonus",
        "mechanic": Mechanic.BONUS_POINTS,
        "window": WINDOW,
        "funding": PROGRAMME,
        "points": 10,
    } | fields
    return Offer(id=0, version=0, **values)  # type: ignore[arg-type]


async def create(db: FakeDatabase, offer: Offer, clock: FixedClock | None = None) -> Offer:
    return await create_offer(offer, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock or FixedClock(NOW))


# --- createOffer ----------------------------------------------------------------------------------


async def test_an_admin_creates_an_active_offer_version_one_and_it_is_audited(clock: FixedClock) -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    stored = await create_offer(
        draft(name="  Spring bonus ", status=OfferStatus.PAUSED, exclusive_group=" spring "),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    assert (stored.version, stored.status, stored.name, stored.exclusive_group) == (
        1,
        OfferStatus.ACTIVE,
        "Spring bonus",
        "spring",
    )
    assert db.tables.offers == {stored.id: stored}
    [event] = db.tables.audit
    assert (event.action, event.target_type, event.target_id, event.before, event.at) == (
        "createOffer",
        "Offer",
        stored.id,
        None,
        NOW,
    )
    assert event.after is not None
    assert event.after["name"] == "Spring bonus"
    assert uow.commits == 1


async def test_a_first_purchase_offer_and_a_red_packet_are_once_per_member(clock: FixedClock) -> None:
    db = FakeDatabase()

    first = await create(
        db, draft(eligibility=Eligibility(first_purchase=FirstPurchase.EVER), limits=Limits(per_member=5))
    )
    packet = await create(db, draft(trigger=Trigger.RED_PACKET))
    anyone = await create(db, draft(eligibility=Eligibility(tier_ids=frozenset())))

    assert [(o.limits.per_member, o.limits.per_member_period) for o in (first, packet)] == [
        (1, CapPeriod.OFFER)
    ] * 2
    assert anyone.eligibility.tier_ids is None  # an empty list places no condition
    assert anyone.limits.per_member is None


def _bad_offers() -> list[tuple[str, Offer, tuple[str, ...]]]:
    naive = datetime(2024, 3, 1, 12, 0)
    cny = Money(1_000, "CNY")
    return [
        ("blank name", draft(name="  "), ("name",)),
        ("ends at its start", draft(window=Window(NOW, NOW)), ("endsAt",)),
        ("no time zone", draft(window=Window(naive, naive + timedelta(days=1))), ("startsAt",)),
        ("start without a zone", draft(window=Window(naive, NOW + timedelta(days=1))), ("startsAt",)),
        ("end without a zone", draft(window=Window(NOW, naive + timedelta(days=1))), ("startsAt",)),
        ("name of 121", draft(name="N" * 121), ("name",)),
        ("zone name of 65", draft(window=replace(WINDOW, time_zone="Z" * 65)), ("timeZone",)),
        ("group of 41", draft(exclusive_group="G" * 41), ("exclusiveGroup",)),
        ("unknown zone", draft(window=replace(WINDOW, time_zone="Mars/Olympus")), ("timeZone",)),
        ("day 0", draft(window=replace(WINDOW, days_of_week=frozenset({0}))), ("daysOfWeek",)),
        ("day 8", draft(window=replace(WINDOW, days_of_week=frozenset({8}))), ("daysOfWeek",)),
        ("one hour bound", draft(window=replace(WINDOW, from_hour=9)), ("fromHour",)),
        ("hours reversed", draft(window=replace(WINDOW, from_hour=9, to_hour=9)), ("fromHour",)),
        ("hour 25", draft(window=replace(WINDOW, from_hour=9, to_hour=25)), ("fromHour",)),
        ("negative hour", draft(window=replace(WINDOW, from_hour=-1, to_hour=5)), ("fromHour",)),
        ("no points", draft(points=0), ("points",)),
        ("multiplier 1", draft(mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(1)), ("multiplier",)),
        (
            "multiplier over 100",
            draft(mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal("100.01")),
            ("multiplier",),
        ),
        ("discount of nothing", draft(mechanic=Mechanic.INSTANT_DISCOUNT), ("amount",)),
        (
            "threshold not above the amount off",
            draft(mechanic=Mechanic.SPEND_AND_SAVE, amount=cny, threshold=cny),
            ("threshold",),
        ),
        ("percent 0", draft(mechanic=Mechanic.PERCENT_DISCOUNT, percent=Decimal(0)), ("percent",)),
        (
            "percent over 100",
            draft(mechanic=Mechanic.CASHBACK_POINTS, percent=Decimal("100.1")),
            ("percent",),
        ),
        (
            "foreign money",
            draft(mechanic=Mechanic.INSTANT_DISCOUNT, amount=Money(100, "USD")),
            ("amount", "currency"),
        ),
        (
            "no money",
            draft(mechanic=Mechanic.INSTANT_DISCOUNT, amount=Money(0, "CNY")),
            ("amount", "amountMinor"),
        ),
        ("no funder", draft(funding=()), ("funding",)),
        (
            "six funders",
            draft(
                funding=tuple(FundingShare(FunderKind.MERCHANT, i, 20 if i == 1 else 16) for i in range(1, 7))
            ),
            ("funding",),
        ),
        (
            "shares of 99",
            draft(funding=(FundingShare(FunderKind.PROGRAMME, None, 99),)),
            ("funding", "percent"),
        ),
        (
            "a zero share",
            draft(
                funding=(
                    FundingShare(FunderKind.PROGRAMME, None, 100),
                    FundingShare(FunderKind.PARTNER, 1, 0),
                )
            ),
            ("funding", "percent"),
        ),
        (
            "a funder twice",
            draft(
                funding=(FundingShare(FunderKind.MERCHANT, 1, 50), FundingShare(FunderKind.MERCHANT, 1, 50))
            ),
            ("funding",),
        ),
        (
            "programme with an id",
            draft(funding=(FundingShare(FunderKind.PROGRAMME, 1, 100),)),
            ("funding", "funderId"),
        ),
        (
            "merchant without id",
            draft(funding=(FundingShare(FunderKind.MERCHANT, None, 100),)),
            ("funding", "funderId"),
        ),
        ("budget 0", draft(limits=Limits(budget_points=0)), ("budgetPoints",)),
        ("max uses 0", draft(limits=Limits(max_uses=0)), ("maxUses",)),
        ("per member 0", draft(limits=Limits(per_member=0)), ("perMember",)),
        (
            "new within 0 days",
            draft(eligibility=Eligibility(new_members_within_days=0)),
            ("newMembersWithinDays",),
        ),
        ("negative referrer points", draft(referrer_points=-1), ("referrerPoints",)),
        (
            "sign-up multiplier",
            draft(trigger=Trigger.SIGN_UP, mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2)),
            ("trigger",),
        ),
        (
            "sign-up at a category",
            draft(
                trigger=Trigger.SIGN_UP,
                eligibility=Eligibility(categories=frozenset({MerchantCategory.DINING})),
            ),
            ("trigger",),
        ),
        (
            "red packet with a coupon flag",
            draft(trigger=Trigger.RED_PACKET, requires_coupon=True),
            ("trigger",),
        ),
        (
            "sign-up for dormant members",
            draft(trigger=Trigger.SIGN_UP, eligibility=Eligibility(dormant_only=True)),
            ("trigger",),
        ),
    ]


@pytest.mark.parametrize(
    ("offer", "field"), [(o, f) for _, o, f in _bad_offers()], ids=[n for n, _, _ in _bad_offers()]
)
async def test_a_bad_offer_is_validation_on_its_field_and_nothing_is_stored(
    offer: Offer, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()

    refused = await raised(create(db, offer))

    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, field)
    assert db.tables.offers == {}
    assert db.tables.audit == []


@pytest.mark.parametrize(
    "offer",
    [
        draft(window=Window(NOW, NOW + timedelta(microseconds=1))),
        draft(window=replace(WINDOW, days_of_week=frozenset({1, 7}), from_hour=0, to_hour=24)),
        draft(mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal("1.01")),
        draft(mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(100)),
        draft(mechanic=Mechanic.PERCENT_DISCOUNT, percent=Decimal(100)),
        draft(mechanic=Mechanic.SPEND_AND_SAVE, amount=Money(999, "CNY"), threshold=Money(1_000, "CNY")),
        draft(mechanic=Mechanic.CASHBACK_POINTS, percent=Decimal("0.01")),
        draft(name="N" * 120, exclusive_group="G" * 40),
        draft(referrer_points=0, limits=Limits(budget_points=1, max_uses=1, per_member=1)),
    ],
)
async def test_an_offer_just_inside_every_limit_is_accepted(offer: Offer) -> None:
    db = FakeDatabase()
    assert (await create(db, offer)).status is OfferStatus.ACTIVE


async def test_five_funders_are_accepted(clock: FixedClock) -> None:
    db = FakeDatabase()
    merchants = [await given_merchant(db, f"M{n}") for n in range(5)]

    stored = await create(
        db, draft(funding=tuple(FundingShare(FunderKind.MERCHANT, m.id, 20) for m in merchants))
    )

    assert len(stored.funding) == 5
    smallest = await create(
        db,
        draft(
            funding=(
                FundingShare(FunderKind.PROGRAMME, None, 99),
                FundingShare(FunderKind.MERCHANT, merchants[0].id, 1),
            )
        ),
    )
    assert [share.percent for share in smallest.funding] == [99, 1]


@pytest.mark.parametrize(
    ("offer", "field"),
    [
        (draft(eligibility=Eligibility(merchant_ids=frozenset({404}))), ("merchantIds",)),
        (draft(eligibility=Eligibility(partner_ids=frozenset({404}))), ("partnerIds",)),
        (draft(eligibility=Eligibility(tier_ids=frozenset({404}))), ("tierIds",)),
        (draft(funding=(FundingShare(FunderKind.MERCHANT, 404, 100),)), ("funding", "funderId")),
        (draft(funding=(FundingShare(FunderKind.PARTNER, 404, 100),)), ("funding", "funderId")),
    ],
)
async def test_naming_what_does_not_exist_is_not_found(offer: Offer, field: tuple[str, ...]) -> None:
    db = FakeDatabase()

    refused = await raised(create(db, offer))

    assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, field)
    assert db.tables.offers == {}


async def test_only_an_admin_manages_offers(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft())
    merchant = Actor(Role.MERCHANT, "pos-1", merchant_id=1)
    uow = FakeUnitOfWork(db)
    before = snapshot(db)

    for attempt in (
        create_offer(draft(), actor=merchant, uow=uow, clock=clock),
        update_offer(offer, actor=merchant, uow=uow, clock=clock),
        change_offer_status(offer.id, OfferStatus.PAUSED, actor=merchant, uow=uow, clock=clock),
        generate_coupons(
            offer.id, count=1, shared_code=None, max_uses=None, actor=merchant, uow=uow, clock=clock
        ),
    ):
        assert (await raised(attempt)).code is ErrorCode.FORBIDDEN
    assert db.tables == before


# --- updateOffer --------------------------------------------------------------------------------------


async def test_an_update_is_the_next_version_keeps_the_status_and_is_audited(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft())
    await change_offer_status(offer.id, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    clock.at += timedelta(hours=1)

    updated = await update_offer(replace(offer, points=20), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)

    assert (updated.version, updated.points, updated.status) == (2, 20, OfferStatus.PAUSED)
    assert db.tables.offers[offer.id].status is OfferStatus.PAUSED
    event = db.tables.audit[-1]
    assert (event.action, event.at) == ("updateOffer", clock.now())
    assert event.before is not None
    assert event.before["points"] == 10
    assert event.after is not None
    assert event.after["points"] == 20


async def test_new_limits_may_equal_what_was_already_given_but_not_go_below_it(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await create(db, draft(points=30, limits=Limits(budget_points=1_000, max_uses=10)))
    await buy(db, clock, merchant.id, member.id, 1_000, "pos-1")
    await buy(db, clock, merchant.id, member.id, 1_000, "pos-2")
    assert db.tables.offer_usage[offer.id] == Usage(60, 0, 2)
    before = snapshot(db)

    below_points = await raised(
        update_offer(
            replace(offer, limits=Limits(budget_points=59)), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )
    below_uses = await raised(
        update_offer(
            replace(offer, limits=Limits(max_uses=1)), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert (below_points.field, below_points.message) == (
        ("limits", "budgetPoints"),
        "60 points are already given",
    )
    assert (below_uses.field, below_uses.message) == (("limits", "maxUses"), "it was already used 2 times")
    assert db.tables == before

    exact = await update_offer(
        replace(offer, limits=Limits(budget_points=60, max_uses=2)),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert (exact.limits.budget_points, exact.limits.max_uses) == (60, 2)
    # the offer is spent: the next purchase earns its base points only
    assert (await buy(db, clock, merchant.id, member.id, 1_000, "pos-3")).points_earned == 10


async def test_a_money_budget_may_not_go_below_the_money_given(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await create(
        db,
        draft(
            mechanic=Mechanic.INSTANT_DISCOUNT,
            points=0,
            amount=Money(500, "CNY"),
            limits=Limits(budget_money=Money(10_000, "CNY")),
        ),
    )
    await buy(db, clock, merchant.id, member.id, 2_000, "pos-1")

    refused = await raised(
        update_offer(
            replace(offer, limits=Limits(budget_money=Money(499, "CNY"))),
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )
    exact = await update_offer(
        replace(offer, limits=Limits(budget_money=Money(500, "CNY"))),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    assert refused.field == ("limits", "budgetMoney")
    assert exact.limits.budget_money == Money(500, "CNY")


async def test_an_unknown_or_archived_offer_cannot_be_updated(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft())
    await change_offer_status(
        offer.id, OfferStatus.ARCHIVED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )

    archived = await raised(update_offer(offer, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock))
    unknown = await raised(
        update_offer(replace(offer, id=404), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    )

    assert (archived.code, archived.message) == (ErrorCode.VALIDATION, "an archived offer cannot be changed")
    assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, ("offerId",))
    assert db.tables.offers[offer.id].version == 1


# --- status -----------------------------------------------------------------------------------------


async def test_pausing_resuming_and_archiving_are_audited_and_archiving_is_final(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft())

    async def to(status: OfferStatus) -> Offer:
        return await change_offer_status(offer.id, status, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)

    assert (await to(OfferStatus.PAUSED)).status is OfferStatus.PAUSED
    assert (await to(OfferStatus.PAUSED)).status is OfferStatus.PAUSED  # no change, nothing audited
    assert (await to(OfferStatus.ACTIVE)).status is OfferStatus.ACTIVE
    assert (await to(OfferStatus.ARCHIVED)).status is OfferStatus.ARCHIVED
    assert (await to(OfferStatus.ARCHIVED)).status is OfferStatus.ARCHIVED
    resumed = await raised(to(OfferStatus.ACTIVE))

    assert (resumed.code, resumed.field) == (ErrorCode.VALIDATION, ("offerId",))
    assert [e.action for e in db.tables.audit] == [
        "createOffer",
        "pausedOffer",
        "activeOffer",
        "archivedOffer",
    ]
    assert db.tables.offers[offer.id].status is OfferStatus.ARCHIVED
    missing = await raised(
        change_offer_status(404, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    )
    assert missing.code is ErrorCode.NOT_FOUND


# --- coupons ----------------------------------------------------------------------------------------


async def test_single_use_codes_are_unguessable_and_shared_ones_are_as_given(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))

    single = await generate_coupons(
        offer.id, count=3, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    [shared] = await generate_coupons(
        offer.id,
        count=None,
        shared_code=" spring24 ",
        max_uses=500,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    assert [(c.max_uses, c.uses, c.member_id, len(c.code)) for c in single] == [(1, 0, None, 12)] * 3
    assert all(set(c.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for c in single)
    assert len({c.code for c in single}) == 3
    assert (shared.code, shared.max_uses) == ("SPRING24", 500)
    assert [e.after for e in db.tables.audit if e.action == "generateCoupons"] == [
        {"coupons": 3},
        {"coupons": 1},
    ]
    taken = await raised(
        generate_coupons(
            offer.id,
            count=None,
            shared_code="SPRING24",
            max_uses=1,
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )
    assert (taken.code, taken.field) == (ErrorCode.ALREADY_EXISTS, ("sharedCode",))


@pytest.mark.parametrize(
    ("count", "shared", "uses", "field"),
    [
        (None, None, None, ("count",)),
        (1, "BOTH", 1, ("count",)),
        (0, None, None, ("count",)),
        (10_001, None, None, ("count",)),
        (None, "C" * 41, 1, ("sharedCode",)),
        (None, "TWO WORDS", 5, ("sharedCode",)),
        (None, "FREE", 0, ("maxUses",)),
        (None, "FREE", None, ("maxUses",)),
    ],
)
async def test_bad_coupon_requests_are_validation_and_make_nothing(
    clock: FixedClock, count: int | None, shared: str | None, uses: int | None, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))

    refused = await raised(
        generate_coupons(
            offer.id,
            count=count,
            shared_code=shared,
            max_uses=uses,
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, field)
    assert db.tables.coupons == {}


async def test_coupons_are_only_for_coupon_offers_and_red_packets(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = FakeDatabase()
    plain = await create(db, draft())
    packet = await create(db, draft(trigger=Trigger.RED_PACKET))
    monkeypatch.setattr(service, "MAX_COUPONS_AT_ONCE", 2)

    refused = await raised(
        generate_coupons(
            plain.id,
            count=1,
            shared_code=None,
            max_uses=None,
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )
    at_most = await generate_coupons(
        packet.id, count=2, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    unknown = await raised(
        generate_coupons(
            404, count=1, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )

    assert (refused.code, refused.message) == (ErrorCode.VALIDATION, "this offer does not take coupons")
    assert len(at_most) == 2
    assert unknown.code is ErrorCode.NOT_FOUND


async def test_a_member_claims_a_single_use_coupon_into_its_wallet_once(clock: FixedClock) -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))
    [coupon] = await generate_coupons(
        offer.id, count=1, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    await generate_coupons(
        offer.id,
        count=None,
        shared_code="SHARED",
        max_uses=9,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    li = await given_member(db, "CRM-1")
    wang = await given_member(db, "CRM-2")

    async def claim(member_id: int, code: str) -> object:
        return await claim_coupon(code, actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=clock)

    claimed = await claim(li.id, f" {coupon.code.lower()} ")
    assert claimed == replace(coupon, member_id=li.id)
    assert await claim(li.id, coupon.code) == claimed  # already mine: the same answer
    theirs = await raised(claim(wang.id, coupon.code))
    shared = await raised(claim(wang.id, "SHARED"))
    unknown = await raised(claim(wang.id, "NOPE"))

    assert (theirs.code, theirs.field) == (ErrorCode.LIMIT_REACHED, ("code",))
    assert shared.code is ErrorCode.LIMIT_REACHED
    assert (unknown.code, unknown.wrong_code) == (ErrorCode.NOT_FOUND, True)
    assert db.tables.coupons[coupon.id].member_id == li.id


# --- a member's offers --------------------------------------------------------------------------------


async def test_a_member_sees_the_offers_it_can_use_now_soonest_ending_first_with_uses_left(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    late = await create(db, draft(name="late", window=replace(WINDOW, ends_at=NOW + timedelta(days=20))))
    capped = await create(
        db, draft(name="capped", limits=Limits(per_member=2, per_member_period=CapPeriod.DAY))
    )
    soon = await create(db, draft(name="soon", window=replace(WINDOW, ends_at=NOW + timedelta(days=2))))
    await create(db, draft(name="coupon only", requires_coupon=True))
    await create(db, draft(name="future", window=Window(NOW + timedelta(days=1), NOW + timedelta(days=3))))
    await create(db, draft(name="online", eligibility=Eligibility(channels=frozenset({Channel.ONLINE}))))
    await buy(db, clock, merchant.id, member.id, 1_000, "pos-1")  # uses one of capped's two today

    found = await usable_offers(
        member.id,
        channel=Channel.OFFLINE,
        category=None,
        uow=FakeUnitOfWork(db),
        reader=FakeOfferWalletReader(db),
        clock=clock,
    )

    assert [(o.offer.id, o.uses_left) for o in found] == [(soon.id, None), (capped.id, 1), (late.id, None)]
    await buy(db, clock, merchant.id, member.id, 1_000, "pos-2")
    found = await usable_offers(
        member.id,
        channel=None,
        category=None,
        uow=FakeUnitOfWork(db),
        reader=FakeOfferWalletReader(db),
        clock=clock,
    )
    assert capped.id not in [o.offer.id for o in found]
    clock.at = datetime(2024, 3, 2, tzinfo=UTC)  # the first instant of the next day: a new cap period
    found = await usable_offers(
        member.id,
        channel=None,
        category=None,
        uow=FakeUnitOfWork(db),
        reader=FakeOfferWalletReader(db),
        clock=clock,
    )
    assert (capped.id, 2) in [(o.offer.id, o.uses_left) for o in found]


async def test_a_locked_member_has_no_offers_and_an_unknown_one_is_not_found(clock: FixedClock) -> None:
    db = FakeDatabase()
    locked = await given_member(db, status=MemberStatus.LOCKED)
    await create(db, draft())

    assert (
        await usable_offers(
            locked.id,
            channel=None,
            category=None,
            uow=FakeUnitOfWork(db),
            reader=FakeOfferWalletReader(db),
            clock=clock,
        )
        == []
    )
    unknown = await raised(
        usable_offers(
            404,
            channel=None,
            category=None,
            uow=FakeUnitOfWork(db),
            reader=FakeOfferWalletReader(db),
            clock=clock,
        )
    )
    assert unknown.code is ErrorCode.NOT_FOUND


async def test_a_member_token_naming_no_member_claims_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()

    refused = await raised(
        claim_coupon("ANY", actor=Actor(Role.MEMBER, "m"), uow=FakeUnitOfWork(db), clock=clock)
    )

    assert (refused.code, refused.message) == (ErrorCode.NOT_FOUND, "the token names no member")


async def test_a_coupon_code_is_at_most_40_characters(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)

    longest = await raised(
        claim_coupon("C" * 40, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=clock)
    )
    too_long = await raised(
        claim_coupon("C" * 41, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=clock)
    )

    assert (longest.code, too_long.code, too_long.field) == (
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ("code",),
    )
