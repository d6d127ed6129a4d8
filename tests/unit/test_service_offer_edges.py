"""Offer administration at its edges, over the fakes: every write stamped with the clock's time, the
once-per-member cap whatever period was asked, a funder id of 0 that names nothing, and the
coupon.issued events that generating and claiming coupons add to the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.events import EventType
from domain.experiments.model import Experiment, Variant
from domain.merchants import PartnerKind
from domain.offers import (
    CapPeriod,
    Coupon,
    Eligibility,
    FirstPurchase,
    FunderKind,
    FundingShare,
    Limits,
    Offer,
    OfferStatus,
    Trigger,
)
from domain.services.offers import (
    change_offer_status,
    claim_coupon,
    create_offer,
    generate_coupons,
    set_offer_experiment,
    update_offer,
)
from tests.unit.fakes import FakeDatabase, FakeOfferRepository, FakeUnitOfWork
from tests.unit.test_service_offers import NOW, create, draft
from tests.unit.test_services import ADMIN, given_member, given_merchant, member_actor, raised, snapshot


class StampSpy(FakeOfferRepository):
    """Keeps the time each write is stamped with (the SQL store keeps it as created_at, updated_at or
    claimed_at; the fake itself does not)."""

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.stamped: list[tuple[str, datetime]] = []

    async def add(self, offer: Offer, at: datetime) -> Offer:
        self.stamped.append(("add", at))
        return await super().add(offer, at)

    async def update(self, offer: Offer, at: datetime) -> Offer:
        self.stamped.append(("update", at))
        return await super().update(offer, at)

    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None:
        self.stamped.append(("set_status", at))
        await super().set_status(offer_id, status, at)

    async def add_coupons(
        self, offer_id: int, codes: Sequence[str], max_uses: int, at: datetime
    ) -> list[Coupon]:
        self.stamped.append(("add_coupons", at))
        return await super().add_coupons(offer_id, codes, max_uses, at)

    async def claim_coupon(self, code: str, member_id: int, at: datetime) -> Coupon | None:
        self.stamped.append(("claim_coupon", at))
        return await super().claim_coupon(code, member_id, at)


async def test_every_offer_write_is_stamped_with_the_clocks_time() -> None:
    db = FakeDatabase()
    spy = StampSpy(db)
    member = await given_member(db)
    times = [NOW + timedelta(minutes=n) for n in range(7)]

    def uow() -> FakeUnitOfWork:
        unit = FakeUnitOfWork(db)
        unit.offers = spy
        return unit

    offer = await create_offer(
        draft(requires_coupon=True), actor=ADMIN, uow=uow(), clock=FixedClock(times[0])
    )
    await update_offer(offer, actor=ADMIN, uow=uow(), clock=FixedClock(times[1]))
    await change_offer_status(
        offer.id, OfferStatus.PAUSED, actor=ADMIN, uow=uow(), clock=FixedClock(times[2])
    )
    [coupon] = await generate_coupons(
        offer.id,
        count=1,
        shared_code=None,
        max_uses=None,
        actor=ADMIN,
        uow=uow(),
        clock=FixedClock(times[3]),
    )
    await claim_coupon(coupon.code, actor=member_actor(member.id), uow=uow(), clock=FixedClock(times[4]))
    await change_offer_status(
        offer.id, OfferStatus.ACTIVE, actor=ADMIN, uow=uow(), clock=FixedClock(times[5])
    )
    experiment = Experiment(0, NOW, 0, (Variant("a", 1, points=20), Variant("b", 1, points=30)))
    await set_offer_experiment(offer.id, experiment, actor=ADMIN, uow=uow(), clock=FixedClock(times[6]))

    assert spy.stamped == [
        ("add", times[0]),
        ("update", times[1]),
        ("set_status", times[2]),
        ("add_coupons", times[3]),
        ("claim_coupon", times[4]),
        ("set_status", times[5]),
        ("update", times[6]),
    ]


@pytest.mark.parametrize(
    "offer",
    [
        draft(trigger=Trigger.RED_PACKET, limits=Limits(per_member=3, per_member_period=CapPeriod.DAY)),
        draft(
            eligibility=Eligibility(first_purchase=FirstPurchase.EVER),
            limits=Limits(per_member=3, per_member_period=CapPeriod.MONTH),
        ),
    ],
    ids=["red packet", "first purchase"],
)
async def test_a_once_per_member_offer_is_once_per_offer_whatever_period_was_asked(offer: Offer) -> None:
    db = FakeDatabase()

    stored = await create(db, offer)

    assert (stored.limits.per_member, stored.limits.per_member_period) == (1, CapPeriod.OFFER)
    assert db.tables.offers[stored.id].limits == stored.limits


async def given_brand(db: FakeDatabase) -> int:
    async with (seed := FakeUnitOfWork(db)):
        brand = await seed.partners.add(name="Bank of Tea", kind=PartnerKind.RETAIL, at=NOW)
        await seed.commit()
    return brand.id


async def given_shop(db: FakeDatabase) -> int:
    return (await given_merchant(db)).id


@pytest.mark.parametrize(
    ("kind", "given_funder", "message"),
    [
        (FunderKind.MERCHANT, given_shop, "no merchant 0"),
        (FunderKind.PARTNER, given_brand, "no partner brand 0"),
    ],
)
async def test_a_funder_of_id_0_names_none_even_when_funder_1_exists(
    kind: FunderKind, given_funder: Callable[[FakeDatabase], Awaitable[int]], message: str
) -> None:
    db = FakeDatabase()
    assert await given_funder(db) == 1
    before = snapshot(db)

    refused = await raised(create(db, draft(funding=(FundingShare(kind, 0, 100),))))

    assert (refused.code, refused.message, refused.field) == (
        ErrorCode.NOT_FOUND,
        message,
        ("funding", "funderId"),
    )
    assert db.tables == before


async def test_generated_coupons_are_one_coupon_issued_event_for_no_member() -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))
    later = FixedClock(NOW + timedelta(hours=2))

    made = await generate_coupons(
        offer.id, count=3, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=later
    )

    [issued] = db.tables.outbox
    assert (issued.type, issued.member_id, issued.occurred_at, issued.payload) == (
        EventType.COUPON_ISSUED,
        None,
        later.now(),
        {"offerId": offer.id, "couponIds": [c.id for c in made]},
    )


async def test_a_claim_is_a_coupon_issued_event_for_the_member_and_a_repeat_adds_none() -> None:
    db = FakeDatabase()
    offer = await create(db, draft(requires_coupon=True))
    [coupon] = await generate_coupons(
        offer.id,
        count=1,
        shared_code=None,
        max_uses=None,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    member = await given_member(db)
    later = FixedClock(NOW + timedelta(days=1))

    async def claim() -> Coupon:
        return await claim_coupon(
            coupon.code, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=later
        )

    claimed = await claim()
    again = await claim()

    assert claimed == again == Coupon(coupon.id, offer.id, coupon.code, 1, 0, member.id)
    [_, issued] = db.tables.outbox
    assert (issued.type, issued.member_id, issued.occurred_at, issued.payload) == (
        EventType.COUPON_ISSUED,
        member.id,
        later.now(),
        {"offerId": offer.id, "couponIds": [coupon.id]},
    )
