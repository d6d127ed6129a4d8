"""The demo's finished experiment: "Lotus Tea House: 5% or 8% back", run for 30 days up to 10 days ago
on a panel of members, 20% of them held out, with a visible lift.

Every step goes through the use cases, with the seeder's clock set back to when it happened: the panel
enrols 70 days ago and buys at the tea house in the 30 days before the experiment (its pre-period); the
offer and its experiment start 40 days ago; each panel member opens its wallet the first morning (the
listing assigns it an arm, holdout included), then buys through the 30 days. How often and how much a
member buys is its own taste (the same before and during: what CUPED uses) times its arm's lift, so
the 8% arm spends clearly more than the holdout, and the 5% arm a little more.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from domain.actors import Actor
from domain.clock import FixedClock
from domain.commands import CreateMerchant, EnrollMember, PostPurchase, PresentedMember
from domain.experiments.assignment import arm_of
from domain.experiments.model import HOLDOUT, Experiment, Variant
from domain.merchants import Channel, MerchantCategory, MerchantChannel
from domain.money import Money
from domain.offers import Eligibility, FunderKind, FundingShare, Limits, Mechanic, Offer, Window
from domain.services.admin import create_merchant, enroll_member
from domain.services.offers import create_offer, set_offer_experiment
from domain.services.programme import UpdateProgramme, update_programme
from domain.services.purchases import post_purchase
from domain.services.wallet_offers import usable_offers
from persistence.engine import Database
from persistence.queries.wallet_offers import SqlOfferWalletReader
from persistence.repositories.experiments import SqlAssignmentLog
from persistence.unit_of_work import SqlAlchemyUnitOfWork

PANEL = 90
NAME = "Lotus Tea House: 5% or 8% back"
LIFT = {HOLDOUT: Decimal("1.00"), "five": Decimal("1.15"), "eight": Decimal("1.45")}
VISITS = {HOLDOUT: (0, 3), "five": (1, 3), "eight": (1, 4)}  # purchases in the 30 days, at random


class Seeding(Protocol):
    database: Database
    clock: FixedClock
    rng: random.Random

    def uow(self) -> SqlAlchemyUnitOfWork: ...
    def key(self) -> str: ...
    def at(self, moment: datetime) -> None: ...


@dataclass(frozen=True)
class Finished:
    offer_id: int
    members: int


async def seed_experiment(s: Seeding, today: datetime, skywing: int, admin: Actor, cards: Actor) -> Finished:
    start, end = today - timedelta(days=40), today - timedelta(days=10)
    rng = random.Random(2026)
    s.at(start - timedelta(days=30, hours=-8))
    lotus = await create_merchant(
        CreateMerchant(
            name="Lotus Tea House",
            category=MerchantCategory.OTHER,
            channel=MerchantChannel.OFFLINE,
            partner_id=None,
            earn_rate_override=None,
        ),
        actor=admin,
        uow=s.uow(),
        clock=s.clock,
    )
    panel: list[tuple[int, Decimal]] = []  # member id, taste: how much it buys there, before and during
    for i in range(PANEL):
        member = await enroll_member(
            EnrollMember(f"PANEL-{i + 1:03d}"), actor=admin, uow=s.uow(), clock=s.clock
        )
        panel.append((member.id, Decimal(rng.randint(60, 160)) / 100))

    async def buy(member_id: int, at: datetime, amount_minor: int) -> None:
        s.at(at)
        await post_purchase(
            PostPurchase(
                member=PresentedMember(member_id=member_id),
                amount=Money(amount_minor, "CNY"),
                idempotency_key=s.key(),
                channel=Channel.OFFLINE,
                merchant_id=lotus.id,
            ),
            actor=cards,
            uow=s.uow(),
            clock=s.clock,
        )

    def amount(taste: Decimal, lift: Decimal) -> int:
        return int(taste * lift * rng.randint(9_000, 14_000))  # about 90 to 140 yuan, scaled

    pre_start = start - timedelta(days=30)
    for member_id, taste in panel:  # the pre-period
        for _ in range(1 + int(taste > 1)):
            moment = pre_start + timedelta(days=rng.randrange(29), hours=10 + rng.randrange(10))
            await buy(member_id, moment, amount(taste, LIFT[HOLDOUT]))

    s.at(start)
    # A point is worth one fen: the campaign's cost (and ROI) counts its points at that.
    await update_programme(
        UpdateProgramme(point_values=(("CNY", "0.01"),)), actor=admin, uow=s.uow(), clock=s.clock
    )
    offer = await create_offer(
        Offer(
            id=0,
            version=0,
            name=NAME,
            mechanic=Mechanic.CASHBACK_POINTS,
            window=Window(start, end, time_zone="Asia/Shanghai"),
            funding=(
                FundingShare(FunderKind.PARTNER, skywing, 50),
                FundingShare(FunderKind.PROGRAMME, None, 50),
            ),
            eligibility=Eligibility(merchant_ids=frozenset({lotus.id})),
            limits=Limits(budget_points=200_000),
            percent=Decimal(5),
        ),
        actor=admin,
        uow=s.uow(),
        clock=s.clock,
    )
    variants = (Variant("five", 1, percent=Decimal(5)), Variant("eight", 1, percent=Decimal(8)))
    armed = await set_offer_experiment(
        offer.id,
        Experiment(0, start, 2_000, variants, margin_bp=4_000),
        actor=admin,
        uow=s.uow(),
        clock=s.clock,
    )
    experiment = armed.experiment
    assert experiment is not None
    reader = SqlOfferWalletReader(s.database.read_engine)
    log = SqlAssignmentLog(s.database.write_engine)
    for i, (member_id, _) in enumerate(panel):  # each opens its wallet the first morning: assigned
        s.at(start + timedelta(hours=1, minutes=i))
        await usable_offers(
            member_id, channel=None, category=None, uow=s.uow(), reader=reader, clock=s.clock, log=log
        )
    for member_id, taste in panel:
        arm = arm_of(offer.id, experiment, member_id)
        low, high = VISITS[arm]
        for _ in range(rng.randint(low, high) + int(taste > 1)):
            moment = start + timedelta(days=1 + rng.randrange(28), hours=10 + rng.randrange(10))
            await buy(member_id, moment, amount(taste, LIFT[arm]))
    return Finished(offer.id, PANEL)
