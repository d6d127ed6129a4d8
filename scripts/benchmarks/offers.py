"""The offer figure: time to evaluate one purchase against 10, 100 and 1,000 live offers, in process.

Offers are spread over 200 merchants, the categories and a few partners the way a programme's would
be: most name a merchant or a category, some apply everywhere. The merchant index picks the ones that
could apply; the engine then checks them all. Timed beside a scan of every live offer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.members import Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import Money
from domain.offers import (
    Eligibility,
    FunderKind,
    FundingShare,
    Mechanic,
    Offer,
    OfferIndex,
    PurchaseFacts,
    Window,
    eligible,
    evaluate,
)
from scripts.benchmarks.report import Figure, Report

MERCHANTS = 200
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _offers(count: int, rng: random.Random) -> list[Offer]:
    window = Window(NOW - timedelta(days=30), NOW + timedelta(days=30))
    categories = list(MerchantCategory)
    made = []
    for i in range(1, count + 1):
        roll = rng.random()
        if roll < 0.6:
            rules = Eligibility(merchant_ids=frozenset({rng.randint(1, MERCHANTS)}))
        elif roll < 0.85:
            rules = Eligibility(categories=frozenset({rng.choice(categories)}))
        elif roll < 0.95:
            rules = Eligibility(partner_ids=frozenset({rng.randint(1, 10)}))
        else:
            rules = Eligibility(minimum_spend=Money(rng.randint(1, 500) * 100, "CNY"))
        mechanic = rng.choice([Mechanic.BONUS_POINTS, Mechanic.POINTS_MULTIPLIER, Mechanic.PERCENT_DISCOUNT])
        made.append(
            Offer(
                id=i,
                version=1,
                name=f"offer {i}",
                mechanic=mechanic,
                window=window,
                funding=(FundingShare(FunderKind.PROGRAMME, None, 100),),
                eligibility=rules,
                points=rng.randint(10, 200),
                multiplier=Decimal(2),
                percent=Decimal(rng.randint(5, 20)),
                exclusive_group=rng.choice([None, None, "a", "b"]),
            )
        )
    return made


def _time(run: Callable[[], None], seconds: float = 0.5) -> float:
    """Microseconds per call, over at least `seconds`."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            run()
        calls += 50
    return elapsed / calls * 1e6


def figures(report: Report) -> None:
    rng = random.Random(11)
    member = Member(1, "m-1", MemberStatus.ACTIVE, "REF00001", NOW - timedelta(days=100), Profile())
    merchants = [
        Merchant(
            i,
            f"merchant {i}",
            rng.choice(list(MerchantCategory)),
            MerchantChannel.BOTH,
            rng.choice([None, *range(1, 11)]),
            None,
            NOW,
        )
        for i in range(1, MERCHANTS + 1)
    ]
    for count in (10, 100, 1_000):
        offers = _offers(count, rng)
        index = OfferIndex(offers)
        shops = iter(rng.choices(merchants, k=1_000_000))

        def indexed(shops: Iterator[Merchant] = shops, index: OfferIndex = index) -> None:
            merchant = next(shops)
            facts = PurchaseFacts(member, merchant, Money(12_345, "CNY"), Channel.OFFLINE, NOW, Decimal(1))
            evaluate(facts, eligible(facts, index.for_merchant(merchant)), {})

        def scanned(shops: Iterator[Merchant] = shops, offers: list[Offer] = offers) -> None:
            merchant = next(shops)
            facts = PurchaseFacts(member, merchant, Money(12_345, "CNY"), Channel.OFFLINE, NOW, Decimal(1))
            evaluate(facts, eligible(facts, offers), {})

        fast, slow = _time(indexed), _time(scanned)
        report.add(
            Figure(
                "offers",
                f"evaluate one purchase, {count:,} live offers",
                fast,
                "µs",
                detail=f"{slow:,.0f} µs scanning every offer without the merchant index",
            )
        )
