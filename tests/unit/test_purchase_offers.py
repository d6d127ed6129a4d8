"""postPurchase with offers (fakes): awards, their funding in the journal, limits, and replay."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.clock import FixedClock
from domain.commands import PostPurchase
from domain.ledger import Account, AccountKind, Posting
from domain.money import Money
from domain.offers import FundedCost, FunderKind, FundingShare, Limits, Mechanic, Offer, Window
from domain.results import award_from_json
from domain.services.purchases import post_purchase
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import balance, given_member, given_merchant, merchant_actor

OPEN = Window(NOW - timedelta(days=1), NOW + timedelta(days=1))


async def given_offer(
    db: FakeDatabase, mechanic: Mechanic = Mechanic.BONUS_POINTS, **fields: object
) -> Offer:
    values: dict[str, object] = {
        "window": OPEN,
        "funding": (FundingShare(FunderKind.PARTNER, 4, 60), FundingShare(FunderKind.PROGRAMME, None, 40)),
    }
    values |= fields
    seed = FakeUnitOfWork(db)
    async with seed:
        offer = await seed.offers.add(
            Offer(id=0, version=0, name="co-branded", mechanic=mechanic, **values),  # type: ignore[arg-type]
            NOW,
        )
        await seed.commit()
    return offer


async def test_a_co_branded_bonus_is_earned_and_booked_against_its_funders(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    offer = await given_offer(db, points=50)

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(12_345, "CNY"), "pos-1"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    assert result.points_earned == 123 + 50
    assert balance(db, member.id).available == 173
    [award] = [award_from_json(a) for a in result.awards]
    assert (award.offer_id, award.version, award.points) == (offer.id, 1, 50)
    assert award.funding == (
        FundedCost(FunderKind.PARTNER, 4, 30, 0),
        FundedCost(FunderKind.PROGRAMME, None, 20, 0),
    )
    [posted] = db.tables.journal.values()
    assert posted.entry.postings == (
        Posting(Account(AccountKind.PARTNER_FUNDING, 4), -30),
        Posting(Account(AccountKind.ISSUANCE), -143),
        Posting(Account.available(member.id), 173),
    )
    assert db.tables.awards == [(result.purchase_id, award)]
    [lot] = db.tables.lots.values()
    assert lot.points == 173


async def test_a_budget_stops_the_bonus_and_the_base_earn_goes_on(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=30, limits=Limits(budget_points=50))

    earned = [
        (
            await post_purchase(
                PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), f"pos-{n}"),
                actor=merchant_actor(merchant.id),
                uow=FakeUnitOfWork(db),
                clock=clock,
            )
        ).points_earned
        for n in range(3)
    ]

    assert earned == [40, 10, 10]  # 30 fits in 50; a second 30 would not
    assert balance(db, member.id).available == 60


async def test_a_once_per_member_offer_is_given_once(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=100, limits=Limits(per_member=1))

    first, second = [
        await post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), f"pos-{n}"),
            actor=merchant_actor(merchant.id),
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
        for n in range(2)
    ]

    assert (first.points_earned, second.points_earned) == (110, 10)
    assert second.awards == []


async def test_a_discount_lowers_what_is_paid_and_points_are_earned_on_the_rest(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, Mechanic.SPEND_AND_SAVE, threshold=Money(20_000, "CNY"), amount=Money(3_000, "CNY"))
    await given_offer(db, Mechanic.PERCENT_DISCOUNT, percent=Decimal(10))

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(25_000, "CNY"), "pos-1"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    discounts = [a["discount_minor"] for a in result.awards]
    assert discounts == [3_000, 2_200]  # 10% of 220.00 after the 30.00 off
    assert result.points_earned == 198  # on 198.00 paid


async def test_a_retry_replays_the_awards_without_claiming_again(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_offer(db, points=30, limits=Limits(budget_points=30))
    command = PostPurchase(linked(db, merchant.id, member.id), Money(1_000, "CNY"), "pos-1")

    first = await post_purchase(
        command, actor=merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=clock
    )
    again = await post_purchase(
        command, actor=merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=clock
    )

    assert again == first
    assert first.points_earned == 40
    assert balance(db, member.id).available == 40
