"""me.eligibleOffers over the fakes: each offer's estimate on the member's typical basket (its mean
purchase there, else the programme's, else none), why it applies, best for the member first, and
narrowed to a channel or a category when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.clock import FixedClock
from domain.commands import CreateTier
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.offers import Eligibility, Estimate, FunderKind, FundingShare, Mechanic, Offer, Window
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
