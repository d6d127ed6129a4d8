"""me.recommendedOffers over the fakes (domain/services/recommendations.py): the wallet's usable offers
turned into the ranker's candidates, narrowed to a merchant, a channel or a category, ranked on the
member's profile in the ladder's currency, and the parts (applies_at, _candidate, _in_category) on
their own."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from domain.clock import FixedClock
from domain.experiments.assignment import arm_of
from domain.experiments.model import Experiment, Variant
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import Money
from domain.offers import Eligibility, Estimate, Limits, Mechanic, Offer, Usage
from domain.profiles import DayActivity
from domain.programme import Programme
from domain.recommendations import Candidate, ReasonCode, recommend, taste
from domain.services.offers import set_offer_experiment
from domain.services.recommendations import (
    Recommended,
    _candidate,
    _in_category,
    applies_at,
    recommended_offers,
)
from domain.services.wallet_offers import UsableOffer
from domain.tiers import Tier
from tests.unit.fakes import FakeAssignmentLog, FakeDatabase, FakeOfferWalletReader, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_service_wallet_offers import NOW, WINDOW, doubled, given_brand, given_shop, offer
from tests.unit.test_services import ADMIN, given_member

DINING, GROCERY, TRAVEL = MerchantCategory.DINING, MerchantCategory.GROCERY, MerchantCategory.TRAVEL
CLOCK = FixedClock(NOW)
YESTERDAY = NOW.date() - timedelta(days=1)


async def recommended(
    db: FakeDatabase,
    member_id: int,
    *,
    channel: Channel | None = None,
    category: MerchantCategory | None = None,
    merchant: Merchant | None = None,
    activity: Sequence[DayActivity] = (),
    programme: Programme | None = None,
    ladder: Sequence[Tier] = (),
    first: int | None = None,
    log: FakeAssignmentLog | None = None,
) -> list[Recommended]:
    return await recommended_offers(
        member_id,
        channel=channel,
        category=category,
        merchant=merchant,
        uow=FakeUnitOfWork(db),
        reader=FakeOfferWalletReader(db),
        clock=CLOCK,
        activity=activity,
        programme=db.tables.programme if programme is None else programme,
        ladder=ladder,
        first=first,
        log=log,
    )


def names(found: list[Recommended]) -> list[str]:
    return [r.line.offer.name for r in found]


def baskets(found: list[Recommended]) -> dict[str, Money | None]:
    return {r.line.offer.name: None if r.line.estimate is None else r.line.estimate.basket for r in found}


def activity_at(merchant: Merchant, purchases: int, spend: int, currency: str = "CNY") -> DayActivity:
    return DayActivity(YESTERDAY, merchant.id, merchant.category, Channel.OFFLINE, currency, purchases, spend)


async def test_each_usable_offer_is_ranked_as_its_candidate_with_merchant_names() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=GROCERY)
    bonus = await offer(
        db, "bonus at tea", points=10, eligibility=Eligibility(merchant_ids=frozenset({tea.id}))
    )
    cashback = await offer(
        db,
        "grocery cashback",
        mechanic=Mechanic.CASHBACK_MONEY,
        percent=Decimal(5),
        eligibility=Eligibility(categories=frozenset({GROCERY})),
        limits=Limits(budget_money=Money(10_000, "CNY")),
    )
    await buy(db, CLOCK, tea.id, member.id, 2_000, "p-1")
    await buy(db, CLOCK, grocer.id, member.id, 6_000, "p-2")
    # The profile as its counters have it: three purchases at the tea house, one at the grocer.
    activity = [activity_at(tea, 3, 6_000), activity_at(grocer, 1, 2_000)]

    found = await recommended(db, member.id, activity=activity)

    candidates = [
        Candidate(
            offer_id=bonus.id,
            ends_at=WINDOW.ends_at,
            categories=frozenset({DINING}),  # its merchant's
            merchant_ids=frozenset({tea.id}),
            currency="CNY",
            basket_minor=2_000,
            money_minor=0,
            points=10,
            budget_left_ppm=None,
        ),
        Candidate(
            offer_id=cashback.id,
            ends_at=WINDOW.ends_at,
            categories=frozenset({GROCERY}),
            merchant_ids=frozenset(),
            currency="CNY",
            basket_minor=6_000,
            money_minor=300,  # 5% of the grocery basket
            points=0,
            budget_left_ppm=970_000,  # it gave 3.00 of its 100.00
        ),
    ]
    expected = recommend(
        candidates,
        taste(activity, currency="CNY", today=NOW.date()),
        now=NOW,
        point_values={},
        merchant_names={tea.id: "Tea House"},
    )
    assert [r.recommendation for r in found] == expected
    assert [r.line.offer.id for r in found] == [r.offer_id for r in expected]
    assert names(found) == ["grocery cashback", "bonus at tea"]
    often = found[1].recommendation.reasons[0]
    assert (often.code, often.message) == (
        ReasonCode.OFTEN_AT_MERCHANT,
        "You often shop at Tea House (3 purchases this year)",
    )


async def test_only_the_first_are_returned_when_asked() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await offer(db, "small", points=5)
    await offer(db, "big", points=50)
    await offer(db, "middle", points=20)

    assert names(await recommended(db, member.id)) == ["big", "middle", "small"]
    assert names(await recommended(db, member.id, first=2)) == ["big", "middle"]


async def test_points_are_valued_and_spend_counted_in_the_ladders_spend_currency() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House")
    await offer(db, "bonus", points=10)  # no basket anywhere: estimated in the profile's currency
    hkd_ladder = [Tier(1, "gold", "Gold", 1, min_spend=Money(100_000, "HKD"))]
    programme = replace(db.tables.programme, point_values={"CNY": Decimal("0.01"), "HKD": Decimal("0.03")})
    activity = [activity_at(tea, 1, 4_000, "HKD"), activity_at(tea, 1, 9_000, "CNY")]

    [in_hkd] = await recommended(db, member.id, programme=programme, ladder=hkd_ladder, activity=activity)
    [in_cny] = await recommended(db, member.id, programme=programme, activity=activity)

    # Ten points at HKD 0.03: 30 cents; at CNY 0.01 (the programme's first currency): 10 fen.
    assert in_hkd.recommendation.value_micro == 30_000_000
    assert in_cny.recommendation.value_micro == 10_000_000
    # An offer for every category: the floor and the general share either way.
    assert in_hkd.recommendation.affinity_ppm == in_cny.recommendation.affinity_ppm == 270_000


async def test_the_profile_is_the_years_spend_in_its_currency_as_of_the_clocks_day() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=GROCERY)
    await offer(db, "dining", points=10, eligibility=Eligibility(categories=frozenset({DINING})))
    activity = [
        activity_at(tea, 1, 3_000),
        activity_at(grocer, 1, 1_000),
        activity_at(grocer, 1, 50_000, "HKD"),  # another currency: not the profile's spend
        replace(activity_at(tea, 1, 90_000), day=NOW.date() + timedelta(days=1)),  # after today
    ]

    [dining] = await recommended(db, member.id, activity=activity)

    # 3,000 of 4,000 at dining, bought yesterday: 3/4 × (1 + 30/31) / 2, above the floor.
    assert dining.recommendation.affinity_ppm == 20_000 + 750_000 * (1_000_000 + 967_741) // 2_000_000


async def test_at_a_merchant_only_offers_that_could_apply_there_estimated_in_its_category() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    brand = await given_brand(db, "Bank of Tea")
    tea = await given_shop(db, "Tea House", channel=MerchantChannel.OFFLINE)
    grocer = await given_shop(db, "Corner Shop", category=GROCERY, partner_id=brand)
    await offer(db, "open", **doubled())
    await offer(db, "dining", **doubled(categories=frozenset({DINING})))
    await offer(db, "at the grocer", **doubled(merchant_ids=frozenset({grocer.id})))
    await offer(db, "grocery", **doubled(categories=frozenset({GROCERY})))
    await offer(db, "of the brand", **doubled(partner_ids=frozenset({brand})))
    await offer(db, "online", **doubled(channels=frozenset({Channel.ONLINE})))
    await buy(db, CLOCK, tea.id, member.id, 2_000, "p-1")
    await buy(db, CLOCK, grocer.id, member.id, 6_000, "p-2")

    at_tea = await recommended(db, member.id, merchant=tea)
    at_grocer = await recommended(db, member.id, merchant=grocer)
    anywhere = await recommended(db, member.id)

    # The tea house's basket is the member's dining one, not its mean purchase of 40.00.
    assert baskets(at_tea) == {"open": Money(2_000, "CNY"), "dining": Money(2_000, "CNY")}
    assert baskets(at_grocer) == {
        name: Money(6_000, "CNY") for name in ("open", "at the grocer", "grocery", "of the brand", "online")
    }
    assert baskets(anywhere)["open"] == Money(4_000, "CNY")


async def test_a_category_given_with_a_merchant_is_the_one_estimated_in() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=GROCERY)
    await offer(db, "open", **doubled())
    await offer(db, "dining", **doubled(categories=frozenset({DINING})))
    await buy(db, CLOCK, tea.id, member.id, 2_000, "p-1")
    await buy(db, CLOCK, grocer.id, member.id, 6_000, "p-2")

    found = await recommended(db, member.id, merchant=tea, category=GROCERY)

    assert baskets(found) == {"open": Money(6_000, "CNY")}


async def test_a_channel_narrows_the_offers_and_the_merchant_must_sell_through_it() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House", channel=MerchantChannel.OFFLINE)
    await offer(db, "open", points=10)
    await offer(db, "in store", points=20, eligibility=Eligibility(channels=frozenset({Channel.OFFLINE})))

    assert names(await recommended(db, member.id, channel=Channel.ONLINE)) == ["open"]
    assert names(await recommended(db, member.id, channel=Channel.OFFLINE)) == ["in store", "open"]
    assert await recommended(db, member.id, channel=Channel.ONLINE, merchant=tea) == []
    assert names(await recommended(db, member.id, channel=Channel.OFFLINE, merchant=tea)) == [
        "in store",
        "open",
    ]


async def test_a_category_leaves_out_offers_only_at_merchants_of_another_one() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_shop(db, "Tea House")
    grocer = await given_shop(db, "Corner Shop", category=GROCERY)
    await offer(db, "open", points=10)
    await offer(db, "at tea", points=20, eligibility=Eligibility(merchant_ids=frozenset({tea.id})))
    await offer(db, "at the grocer", points=30, eligibility=Eligibility(merchant_ids=frozenset({grocer.id})))
    await offer(db, "travel", points=40, eligibility=Eligibility(categories=frozenset({TRAVEL})))

    # Open to every category, the smallest bonus ranks first (a quarter of the spend, assumed).
    assert names(await recommended(db, member.id, category=GROCERY)) == ["open", "at the grocer"]
    assert names(await recommended(db, member.id, category=DINING)) == ["open", "at tea"]
    assert names(await recommended(db, member.id)) == ["open", "travel", "at the grocer", "at tea"]


async def test_nothing_usable_is_an_empty_list() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    grocer = await given_shop(db, "Corner Shop", category=GROCERY)
    tea = await given_shop(db, "Tea House")
    assert await recommended(db, member.id) == []
    await offer(db, "at the grocer", points=30, eligibility=Eligibility(merchant_ids=frozenset({grocer.id})))
    assert await recommended(db, member.id, merchant=tea) == []
    assert await recommended(db, member.id, category=DINING) == []


async def test_the_arm_of_an_experiment_offer_is_recorded_in_the_log_given() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    armed = await offer(db, "cashback", mechanic=Mechanic.CASHBACK_POINTS, percent=Decimal(5))
    experiment = Experiment(
        0, NOW, 5_000, (Variant("five", 1, percent=Decimal(5)), Variant("eight", 1, percent=Decimal(8)))
    )
    armed = await set_offer_experiment(armed.id, experiment, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK)
    assert armed.experiment is not None

    await recommended(db, member.id, log=FakeAssignmentLog(db))

    assert list(db.tables.assignments.values()) == [(arm_of(armed.id, armed.experiment, member.id), NOW)]


class CountingReader(FakeOfferWalletReader):
    merchant_reads = 0

    async def merchants(self, ids: Collection[int]) -> list[Merchant]:
        self.merchant_reads += 1
        return await super().merchants(ids)


async def test_no_merchant_is_read_when_no_offer_names_one() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await offer(db, "open", points=10)
    await offer(db, "dining", points=20, eligibility=Eligibility(categories=frozenset({DINING})))
    reader = CountingReader(db)

    found = await recommended_offers(
        member.id,
        channel=None,
        category=DINING,
        merchant=None,
        uow=FakeUnitOfWork(db),
        reader=reader,
        clock=CLOCK,
        activity=(),
        programme=db.tables.programme,
        ladder=(),
    )

    assert names(found) == ["open", "dining"]
    assert reader.merchant_reads == 0


# The parts


def shop(
    category: MerchantCategory = DINING,
    channel: MerchantChannel = MerchantChannel.OFFLINE,
    partner_id: int | None = 3,
) -> Merchant:
    return Merchant(7, "Tea House", category, channel, partner_id, None, NOW)


def offer_with(eligibility: Eligibility = Eligibility(), limits: Limits = Limits()) -> Offer:
    return Offer(
        5, 1, "o", Mechanic.BONUS_POINTS, WINDOW, (), eligibility=eligibility, limits=limits, points=10
    )


def test_an_offer_applies_at_a_merchant_when_each_of_its_rules_lets_it() -> None:
    def at(rules: Eligibility, merchant: Merchant = shop(), channel: Channel | None = None) -> bool:
        return applies_at(offer_with(rules), merchant, channel)

    assert at(Eligibility())
    assert at(Eligibility(merchant_ids=frozenset({6, 7})))
    assert not at(Eligibility(merchant_ids=frozenset({6})))
    assert at(Eligibility(categories=frozenset({DINING, GROCERY})))
    assert not at(Eligibility(categories=frozenset({GROCERY})))
    assert at(Eligibility(partner_ids=frozenset({3})))
    assert not at(Eligibility(partner_ids=frozenset({4})))
    assert not at(Eligibility(partner_ids=frozenset({4})), shop(partner_id=None))
    # The channel asked for: the merchant must sell through it.
    assert at(Eligibility(), channel=Channel.OFFLINE)
    assert not at(Eligibility(), channel=Channel.ONLINE)
    assert at(Eligibility(), shop(channel=MerchantChannel.BOTH), Channel.ONLINE)
    # The offer's channels: the merchant must sell through one of them.
    assert at(Eligibility(channels=frozenset({Channel.OFFLINE})))
    assert at(Eligibility(channels=frozenset({Channel.ONLINE, Channel.OFFLINE})))
    assert not at(Eligibility(channels=frozenset({Channel.ONLINE})))
    assert at(Eligibility(channels=frozenset({Channel.ONLINE})), shop(channel=MerchantChannel.ONLINE))


def test_a_candidate_carries_the_offers_end_places_estimate_and_budget_left() -> None:
    grocer = replace(shop(GROCERY), id=8)
    line = UsableOffer(
        offer_with(
            Eligibility(merchant_ids=frozenset({8, 9})),
            Limits(budget_points=1_000, budget_money=Money(5_000, "HKD")),
        ),
        None,
        (),
        Estimate(Money(4_000, "HKD"), points=12, discount_minor=150, cashback_minor=40, worth=0),
        Usage(points=100, money_minor=2_000),
    )

    assert _candidate(line, {8: grocer}, "CNY") == Candidate(
        offer_id=5,
        ends_at=WINDOW.ends_at,
        categories=frozenset({GROCERY}),
        merchant_ids=frozenset({8, 9}),
        currency="HKD",  # the basket's
        basket_minor=4_000,
        money_minor=190,
        points=12,
        budget_left_ppm=600_000,  # 3,000 of 5,000 left, less than 900 of 1,000 points
    )


def test_a_candidate_without_an_estimate_or_a_basket_is_in_the_profiles_currency() -> None:
    unestimated = UsableOffer(offer_with(), None, (), None, Usage(points=50))
    no_basket = replace(unestimated, estimate=Estimate(None, 12, 0, 0, 12))
    points_budget = replace(no_basket, offer=offer_with(limits=Limits(budget_points=200)))

    assert _candidate(unestimated, {}, "CNY") == Candidate(
        offer_id=5,
        ends_at=WINDOW.ends_at,
        categories=frozenset(),
        merchant_ids=frozenset(),
        currency="CNY",
        basket_minor=None,
        money_minor=0,
        points=0,
        budget_left_ppm=None,
    )
    assert _candidate(no_basket, {}, "JPY") == replace(
        _candidate(unestimated, {}, "JPY"), points=12, currency="JPY"
    )
    assert _candidate(points_budget, {}, "CNY").budget_left_ppm == 750_000


def test_an_offer_is_in_a_category_when_it_names_it_or_its_merchants_are_of_it_or_it_is_open() -> None:
    tea, grocer = shop(), replace(shop(GROCERY), id=8)
    merchants = {7: tea, 8: grocer}

    assert _in_category(offer_with(), merchants, TRAVEL)
    assert _in_category(offer_with(Eligibility(categories=frozenset({TRAVEL}))), merchants, TRAVEL)
    assert not _in_category(offer_with(Eligibility(categories=frozenset({DINING}))), merchants, TRAVEL)
    assert _in_category(offer_with(Eligibility(merchant_ids=frozenset({7, 8}))), merchants, GROCERY)
    assert not _in_category(offer_with(Eligibility(merchant_ids=frozenset({7}))), merchants, GROCERY)
