"""me.eligibleOffers over the fakes: each offer's estimate on the member's typical basket (its mean
purchase there, else the programme's, else none), why it applies, best for the member first, and
narrowed to a channel or a category when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.clock import FixedClock
from domain.commands import CreateTier
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel, PartnerKind
from domain.money import Money
from domain.offers import (
    Eligibility,
    Estimate,
    FirstPurchase,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    Trigger,
    Usage,
    Window,
)
from domain.segments import SegmentKind
from domain.services.offers import claim_coupon, create_offer, generate_coupons
from domain.services.tiers import create_tier
from domain.services.wallet_offers import UsableOffer, usable_offers
from tests.unit.fakes import FakeDatabase, FakeOfferWalletReader, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, given_member, given_merchant, member_actor

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=1), NOW + timedelta(days=10))
PROGRAMME = (FundingShare(FunderKind.PROGRAMME, None, 100),)


async def offer(db: FakeDatabase, name: str, **fields: object) -> Offer:
    values: dict[str, object] = {
        "name": name,
        "mechanic": Mechanic.BONUS_POINTS,
        "window": WINDOW,
        "funding": PROGRAMME,
    } | fields
    draft = Offer(id=0, version=0, **values)  # type: ignore[arg-type]
    return await create_offer(draft, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def listed(
    db: FakeDatabase, member_id: int, channel: Channel | None = None, category: MerchantCategory | None = None
) -> list[UsableOffer]:
    return await usable_offers(
        member_id,
        channel=channel,
        category=category,
        uow=FakeUnitOfWork(db),
        reader=FakeOfferWalletReader(db),
        clock=FixedClock(NOW),
    )


def lines(found: list[UsableOffer]) -> list[tuple[str, Estimate | None, tuple[str, ...]]]:
    return [(o.offer.name, o.estimate, o.reasons) for o in found]


UNTIL = ("until 2024-03-11 12:00",)


def on(basket: int | None, points: int = 0, cashback: int = 0, worth: int = 0) -> Estimate:
    return Estimate(None if basket is None else Money(basket, "CNY"), points, 0, cashback, worth)


async def given_offers(db: FakeDatabase, shop_id: int) -> None:
    await offer(db, "bonus", points=10, eligibility=Eligibility(merchant_ids=frozenset({shop_id})))
    await offer(db, "double", mechanic=Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2))
    await offer(db, "cashback", mechanic=Mechanic.CASHBACK_MONEY, percent=Decimal(5))


async def test_each_offer_is_estimated_on_the_members_mean_purchase_best_for_it_first() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    other = await given_member(db, "CRM-2")
    await given_offers(db, shop.id)
    await buy(db, FixedClock(NOW), shop.id, member.id, 1_000, "p-1")
    await buy(db, FixedClock(NOW), shop.id, member.id, 3_000, "p-2")
    await buy(db, FixedClock(NOW), shop.id, other.id, 10_000, "p-3")  # not the member's: not its basket

    found = await listed(db, member.id)

    assert lines(found) == [
        ("double", on(2_000, points=20, worth=20), UNTIL),  # 20 base points, doubled: 20 more
        ("bonus", on(2_000, points=10, worth=10), ("at Tea House", *UNTIL)),
        ("cashback", on(2_000, cashback=100, worth=1), UNTIL),  # 5% of 20.00, worth a point
    ]
    assert [o.uses_left for o in found] == [None, None, None]
    assert lines(await listed(db, member.id, channel=Channel.ONLINE)) == lines(found)


async def test_a_member_who_never_bought_is_estimated_on_the_programmes_recent_baskets() -> None:
    db = FakeDatabase()
    shop = await given_merchant(db)
    buyer, newcomer = await given_member(db), await given_member(db, "CRM-2")
    await given_offers(db, shop.id)
    for i, amount in enumerate((1_000, 3_000, 10_000)):
        await buy(db, FixedClock(NOW), shop.id, buyer.id, amount, f"p-{i}")

    found = await listed(db, newcomer.id)

    assert lines(found) == [
        ("double", on(4_666, points=46, worth=46), UNTIL),  # the mean of the three, rounded down
        ("bonus", on(4_666, points=10, worth=10), ("at Tea House", *UNTIL)),
        ("cashback", on(4_666, cashback=233, worth=2), UNTIL),
    ]


async def test_with_no_basket_anywhere_only_a_fixed_bonus_says_what_it_gives() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    await given_offers(db, shop.id)

    found = await listed(db, member.id)

    assert lines(found) == [
        ("bonus", on(None, points=10, worth=10), ("at Tea House", *UNTIL)),
        ("double", None, UNTIL),
        ("cashback", None, UNTIL),
    ]


async def test_a_category_asked_for_is_the_basket_estimated_on() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)  # a DINING merchant
    await given_offers(db, shop.id)
    await buy(db, FixedClock(NOW), shop.id, member.id, 2_000, "p-1")

    dining = await listed(db, member.id, category=MerchantCategory.DINING)
    grocery = await listed(db, member.id, category=MerchantCategory.GROCERY)

    assert [line[1] for line in lines(dining)] == [
        on(2_000, points=20, worth=20),
        on(2_000, points=10, worth=10),
        on(2_000, cashback=100, worth=1),
    ]
    assert {name: gives for name, gives, _ in lines(grocery)} == {
        "bonus": on(None, points=10, worth=10),
        "double": None,
        "cashback": None,
    }


async def test_an_offer_for_a_tier_names_it() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    classic = await create_tier(
        CreateTier("classic", "Classic", 1), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    await offer(db, "tiered", points=5, eligibility=Eligibility(tier_ids=frozenset({classic.id})))
    gold = await create_tier(
        CreateTier("gold", "Gold", 2, min_points=1_000),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    await offer(db, "gold only", points=50, eligibility=Eligibility(tier_ids=frozenset({gold.id})))
    await buy(db, FixedClock(NOW), shop.id, member.id, 2_000, "p-1")

    assert lines(await listed(db, member.id)) == [
        ("tiered", on(2_000, points=5, worth=5), ("Classic members", *UNTIL))
    ]


async def test_a_coupon_only_offer_is_listed_once_its_coupon_is_in_the_wallet() -> None:
    db = FakeDatabase()
    member, other = await given_member(db), await given_member(db, "CRM-2")
    coupon_only = await offer(db, "coupon", points=7, requires_coupon=True)
    [made] = await generate_coupons(
        coupon_only.id,
        count=1,
        shared_code=None,
        max_uses=None,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    before = await listed(db, member.id)
    await claim_coupon(
        made.code, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )

    assert before == []
    assert lines(await listed(db, member.id)) == [
        ("coupon", on(None, points=7, worth=7), ("a coupon in your wallet", *UNTIL))
    ]
    assert await listed(db, other.id) == []


async def given_shop(
    db: FakeDatabase,
    name: str,
    *,
    category: MerchantCategory = MerchantCategory.DINING,
    channel: MerchantChannel = MerchantChannel.BOTH,
    partner_id: int | None = None,
    override: Decimal | None = None,
) -> Merchant:
    async with (seed := FakeUnitOfWork(db)):
        merchant = await seed.merchants.add(
            name=name,
            category=category,
            channel=channel,
            partner_id=partner_id,
            earn_rate_override=override,
            at=NOW - timedelta(days=30),
        )
        await seed.commit()
    return merchant


async def given_brand(db: FakeDatabase, name: str) -> int:
    async with (seed := FakeUnitOfWork(db)):
        brand = await seed.partners.add(name=name, kind=PartnerKind.RETAIL, at=NOW - timedelta(days=30))
        await seed.commit()
    return brand.id


def doubled(**rules: Any) -> dict[str, object]:
    """A points multiplier of 2 under these eligibility rules."""
    return {
        "mechanic": Mechanic.POINTS_MULTIPLIER,
        "multiplier": Decimal(2),
        "eligibility": Eligibility(**rules),
    }


async def test_a_first_purchase_offer_is_listed_only_to_members_who_never_bought_where_it_asks() -> None:
    db = FakeDatabase()
    brand = await given_brand(db, "Bank of Tea")
    shop = await given_shop(db, "Tea House")
    branded = await given_shop(db, "Tea Corner", partner_id=brand)
    elsewhere = await given_shop(db, "Noodle Bar")
    regular, brand_fan, newcomer = [await given_member(db, ref) for ref in ("CRM-1", "CRM-2", "CRM-3")]
    # Bought before the offers existed, so no offer was used: only where they bought keeps them out.
    await buy(db, FixedClock(NOW), shop.id, regular.id, 1_000, "p-1")
    await buy(db, FixedClock(NOW), branded.id, brand_fan.id, 1_000, "p-2")
    await buy(db, FixedClock(NOW), elsewhere.id, brand_fan.id, 1_000, "p-3")
    await offer(
        db,
        "first here",
        points=30,
        eligibility=Eligibility(merchant_ids=frozenset({shop.id}), first_purchase=FirstPurchase.AT_MERCHANT),
    )
    await offer(
        db,
        "first at the brand",
        points=40,
        eligibility=Eligibility(partner_ids=frozenset({brand}), first_purchase=FirstPurchase.AT_PARTNER),
    )
    await offer(db, "first ever", points=50, eligibility=Eligibility(first_purchase=FirstPurchase.EVER))

    at_brand = ("your first purchase at Bank of Tea", "at Bank of Tea merchants", *UNTIL)
    here = ("your first purchase at Tea House", "at Tea House", *UNTIL)
    assert lines(await listed(db, regular.id)) == [
        ("first at the brand", on(1_000, points=40, worth=40), at_brand)
    ]
    assert lines(await listed(db, brand_fan.id)) == [("first here", on(1_000, points=30, worth=30), here)]
    assert lines(await listed(db, newcomer.id)) == [
        ("first ever", on(1_000, points=50, worth=50), ("your first purchase", *UNTIL)),
        ("first at the brand", on(1_000, points=40, worth=40), at_brand),
        ("first here", on(1_000, points=30, worth=30), here),
    ]


async def test_an_offer_whose_award_no_longer_fits_its_budget_is_left_out_and_the_rest_say_their_usage() -> (
    None
):
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_shop(db, "Tea House")
    nearly_spent = await offer(db, "nearly spent", points=60, limits=Limits(budget_points=100))
    used = await offer(db, "used", points=5)
    await buy(db, FixedClock(NOW), shop.id, member.id, 1_000, "p-1")  # each gives its points once

    found = await listed(db, member.id)

    # 40 points are left of the budget: the next award of 60 does not fit.
    assert [(o.offer.id, o.usage) for o in found] == [(used.id, Usage(5, 0, 1))]
    assert db.tables.offer_usage[nearly_spent.id] == Usage(60, 0, 1)


async def test_the_estimate_applies_the_members_tier_multiplier() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_shop(db, "Tea House")
    await create_tier(
        CreateTier("classic", "Classic", 1, earn_multiplier=Decimal(3)),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    await offer(db, "double", **doubled())
    await buy(db, FixedClock(NOW), shop.id, member.id, 2_000, "p-1")

    # 20 base points, tripled by the tier: 60, doubled by the offer: 60 more.
    assert lines(await listed(db, member.id)) == [("double", on(2_000, points=60, worth=60), UNTIL)]


async def test_without_purchases_of_its_own_in_the_offers_category_the_programmes_are_taken() -> None:
    db = FakeDatabase()
    member, other = await given_member(db), await given_member(db, "CRM-2")
    dining = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=MerchantCategory.GROCERY)
    await offer(db, "dining", **doubled(categories=frozenset({MerchantCategory.DINING})))
    await buy(db, FixedClock(NOW), grocer.id, member.id, 9_000, "p-1")
    await buy(db, FixedClock(NOW), dining.id, other.id, 3_000, "p-2")

    assert lines(await listed(db, member.id)) == [
        ("dining", on(3_000, points=30, worth=30), ("dining", *UNTIL))
    ]


async def test_an_offer_of_a_category_naming_no_merchant_is_estimated_at_a_stand_in_of_it() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    dining = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=MerchantCategory.GROCERY)
    await offer(db, "dining", **doubled(categories=frozenset({MerchantCategory.DINING})))
    await offer(db, "in store", points=7, eligibility=Eligibility(channels=frozenset({Channel.OFFLINE})))
    await buy(db, FixedClock(NOW), dining.id, member.id, 2_000, "p-1")
    await buy(db, FixedClock(NOW), grocer.id, member.id, 6_000, "p-2")  # bought more often as a grocer
    await buy(db, FixedClock(NOW), grocer.id, member.id, 6_000, "p-3")

    assert lines(await listed(db, member.id)) == [
        ("dining", on(2_000, points=20, worth=20), ("dining", *UNTIL)),
        ("in store", on(4_666, points=7, worth=7), ("in store", *UNTIL)),
    ]


async def test_a_partner_brand_offer_names_the_brand_and_is_estimated_at_a_merchant_of_it() -> None:
    db = FakeDatabase()
    brand = await given_brand(db, "Bank of Tea")
    plain = await given_shop(db, "Tea House", override=Decimal(3))
    branded = await given_shop(db, "Tea Corner", partner_id=brand, override=Decimal(4))
    member = await given_member(db)
    await offer(db, "any of the brand", **doubled(partner_ids=frozenset({brand})))
    await offer(
        db,
        "named",
        **doubled(partner_ids=frozenset({brand}), merchant_ids=frozenset({plain.id, branded.id})),
    )
    await buy(db, FixedClock(NOW), plain.id, member.id, 2_000, "p-1")

    assert lines(await listed(db, member.id)) == [
        # Of the merchants it names, only Tea Corner is of the brand: its rate of 4 a unit.
        (
            "named",
            on(2_000, points=80, worth=80),
            ("at Tea House or Tea Corner at Bank of Tea merchants", *UNTIL),
        ),
        # Naming none: a stand-in merchant of the brand, at the base rate.
        ("any of the brand", on(2_000, points=20, worth=20), ("at Bank of Tea merchants", *UNTIL)),
    ]


async def test_the_basket_is_taken_at_the_first_named_merchant_that_fits_else_at_a_stand_in() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    in_store = await given_shop(db, "Tea House", channel=MerchantChannel.OFFLINE, override=Decimal(3))
    also = await given_shop(db, "Tea Corner", override=Decimal(4))
    await offer(db, "both", **doubled(merchant_ids=frozenset({in_store.id, also.id})))
    await offer(db, "in store only", **doubled(merchant_ids=frozenset({in_store.id})))
    grocer = await given_shop(db, "Corner Shop", category=MerchantCategory.GROCERY, override=Decimal(5))
    await offer(
        db,
        "grocery",
        **doubled(
            merchant_ids=frozenset({in_store.id, grocer.id}), categories=frozenset({MerchantCategory.GROCERY})
        ),
    )
    await buy(db, FixedClock(NOW), in_store.id, member.id, 2_000, "p-1")
    await buy(db, FixedClock(NOW), grocer.id, member.id, 2_000, "p-2")

    anywhere = {name: gives for name, gives, _ in lines(await listed(db, member.id))}
    online = {name: gives for name, gives, _ in lines(await listed(db, member.id, channel=Channel.ONLINE))}

    # At Tea House's own rate of 3 a unit: 60 base points, doubled.
    assert anywhere == {
        "both": on(2_000, points=60, worth=60),
        "in store only": on(2_000, points=60, worth=60),
        "grocery": on(2_000, points=100, worth=100),  # at the grocer it names, 5 a unit
    }
    # Tea House sells in store only: online, the next merchant named (4 a unit).
    assert online == {
        "both": on(2_000, points=80, worth=80),
        "in store only": on(2_000),  # none of its merchants sells online: it gives nothing there
        "grocery": on(2_000, points=100, worth=100),
    }


async def test_a_segment_offer_is_listed_for_the_segments_members_only() -> None:
    db = FakeDatabase()
    member, other = await given_member(db), await given_member(db, "CRM-2")
    async with (seed := FakeUnitOfWork(db)):
        segment = await seed.segments.add(
            name="tea lovers", description=None, kind=SegmentKind.STATIC, rule=None, at=NOW
        )
        await seed.commit()
    db.tables.segments.members[segment.id] = {member.id}
    await offer(db, "picked", points=9, eligibility=Eligibility(segment_ids=frozenset({segment.id})))

    assert lines(await listed(db, member.id)) == [
        ("picked", on(None, points=9, worth=9), ("picked for members like you", *UNTIL))
    ]
    assert await listed(db, other.id) == []


async def test_a_red_packet_in_the_wallet_says_its_points_whatever_the_members_basket() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_shop(db, "Tea House")
    await buy(db, FixedClock(NOW), shop.id, member.id, 2_000, "p-1")
    packet = await offer(db, "packet", points=88, trigger=Trigger.RED_PACKET)
    [made] = await generate_coupons(
        packet.id,
        count=1,
        shared_code=None,
        max_uses=None,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    await claim_coupon(
        made.code, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )

    assert [(name, gives) for name, gives, _ in lines(await listed(db, member.id))] == [
        ("packet", on(None, points=88, worth=88))
    ]
