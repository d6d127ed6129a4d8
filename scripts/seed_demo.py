"""Demo data for a fresh database, written through the domain's use cases so the ledger is real.

Every purchase, redemption and adjustment goes through `domain.services` with a unit of work, an
idempotency key ("seed-<n>") and a clock moved through the past ~120 days, so journal entries, lots
and their expiry dates look like real history. Deterministic: the same reference time gives the same
data (random.Random(42)).

The whole points lifecycle shows: points of the launch weeks were valid for 3, then 4 months (some
have expired, some expire within 30 days), 24 months after that; the hotel's stays earn pending points for its
14-day return window (matured by a nightly job), members sit in all three tiers (普卡, 金卡,
白金卡), two POS holds are open, rewards are fulfilled or cancelled, purchases are refunded, a
family moves points between members, and one member who stopped shopping is dormant.

    python -m scripts.seed_demo        # migrates DATABASE_URL, then seeds it if it has no members
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from api.app import migration_keys, open_database
from api.settings import Settings
from domain import segments as sg
from domain.actors import Actor, Role
from domain.clock import Clock, FixedClock, SystemClock
from domain.commands import (
    AdjustPoints,
    AuthorizeRedemption,
    CancelRedemption,
    CaptureRedemption,
    ChangeMemberStatus,
    CreateMerchant,
    CreatePartnerBrand,
    CreateReward,
    CreateTier,
    EnrollMember,
    FulfilRedemption,
    PostPurchase,
    PresentedMember,
    RedeemReward,
    RefundPurchase,
    TransferPoints,
)
from domain.errors import DomainError
from domain.events import EventType
from domain.members import Contact, IncomeBand, Profile
from domain.merchants import Channel, MerchantCategory, MerchantChannel, PartnerKind
from domain.money import Money
from domain.notifications import NotificationKind
from domain.offers import (
    CapPeriod,
    Eligibility,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    Trigger,
    Window,
)
from domain.programme import ExpiryPolicy
from domain.purchases import ReasonCode
from domain.services.adjustments import adjust_points
from domain.services.admin import (
    create_merchant,
    create_partner_brand,
    create_reward,
    enroll_member,
    lock_member,
)
from domain.services.dormancy import run_dormancy
from domain.services.expiry import run_expiry
from domain.services.fulfilment import cancel_redemption, fulfil_redemption
from domain.services.maturation import run_maturation
from domain.services.offers import create_offer
from domain.services.pos_redemptions import authorize_redemption, capture_redemption, create_redemption_code
from domain.services.presence import link_merchant
from domain.services.programme import UpdateProgramme, update_programme
from domain.services.purchases import post_purchase
from domain.services.redemptions import redeem_reward
from domain.services.refunds import refund_purchase
from domain.services.segments import CreateSegment, create_segment, run_segment_refresh
from domain.services.tiers import create_tier, run_tier_evaluation
from domain.services.transfers import transfer_points
from domain.services.triggers import TriggerInput, create_trigger
from domain.triggers import Action, ActionKind, Condition, ConditionKind
from persistence import tables as tables_module
from persistence.engine import Database
from persistence.migrate import upgrade_to_head
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.seed_experiment import seed_experiment

HISTORY_DAYS = 120
MEMBER_COUNT = 20
# Points earned in the launch weeks were valid for a few months only: some have expired by now,
# some expire within 30 days. (day, validity in months) from which each rule applied.
VALIDITY_CHANGES = {12: 4, 30: 24}
STOPS_SHOPPING_DAY = 40  # one member's last purchase: it is dormant 60 days later
# (code, name, rank, qualifying points in 12 months, earn multiplier)
TIERS = [
    ("STANDARD", "普卡", 1, None, "1"),
    ("GOLD", "金卡", 2, 12_000, "1.25"),
    ("PLATINUM", "白金卡", 3, 40_000, "1.5"),
]
# The demo's customers live in China and Hong Kong (UTC+8, no daylight saving time).
LOCAL = timezone(timedelta(hours=8), "UTC+08")

ADMIN = Actor(role=Role.ADMIN, subject="seed@demo", request_id="seed-demo")

PARTNERS = [("SkyWing Airlines", PartnerKind.AIRLINE), ("ShopHub", PartnerKind.ECOMMERCE)]


@dataclass(frozen=True)
class MerchantSpec:
    name: str
    category: MerchantCategory
    channel: MerchantChannel
    spend: tuple[int, int]  # a typical purchase, in currency units
    weight: int  # how often members shop here, relative to the others
    partner: str | None = None
    earn_rate: Decimal | None = None
    pending_days: int | None = None  # its own return window


MERCHANTS = [
    MerchantSpec("Jade Garden Dim Sum", MerchantCategory.DINING, MerchantChannel.OFFLINE, (60, 480), 9),
    MerchantSpec("Noodle Republic", MerchantCategory.DINING, MerchantChannel.BOTH, (25, 160), 12),
    MerchantSpec(
        "SkyWing Airlines",
        MerchantCategory.TRAVEL,
        MerchantChannel.BOTH,
        (680, 5200),
        2,
        partner="SkyWing Airlines",
        earn_rate=Decimal("2"),
    ),
    # Stays can be cancelled for two weeks: their points stay pending that long.
    MerchantSpec(
        "Harbour View Hotels",
        MerchantCategory.TRAVEL,
        MerchantChannel.OFFLINE,
        (450, 2600),
        2,
        pending_days=14,
    ),
    MerchantSpec(
        "ShopHub Marketplace",
        MerchantCategory.ONLINE_SHOPPING,
        MerchantChannel.ONLINE,
        (30, 1600),
        10,
        partner="ShopHub",
        earn_rate=Decimal("1.5"),
    ),
    MerchantSpec("Bamboo Books", MerchantCategory.ONLINE_SHOPPING, MerchantChannel.ONLINE, (40, 320), 4),
    MerchantSpec("FreshMart", MerchantCategory.GROCERY, MerchantChannel.BOTH, (35, 620), 11),
    MerchantSpec("Starlight Cinemas", MerchantCategory.ENTERTAINMENT, MerchantChannel.OFFLINE, (60, 280), 4),
    MerchantSpec("Pixel Electronics", MerchantCategory.RETAIL, MerchantChannel.BOTH, (150, 3800), 2),
]

# (name, cost in points, stock: None is unlimited); the lounge pass is the one that runs short.
REWARDS = [
    ("Coffee voucher", 300, None),
    ("Starlight cinema ticket", 900, None),
    ("ShopHub ¥50 coupon", 1500, None),
    ("SkyWing lounge pass", 3000, 3),
    ("Harbour View weekend night", 9000, None),
]

REGIONS = ["Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hong Kong", "Hangzhou", "Chengdu"]
TAGS = [
    "foodie",
    "frequent-flyer",
    "online-shopper",
    "family",
    "student",
    "business-traveller",
    "coffee-lover",
    "movie-goer",
    "gadget-fan",
    "weekend-shopper",
]
# Which merchants a tag makes a member favour.
TAG_FAVOURITES = {
    "foodie": ["Jade Garden Dim Sum", "Noodle Republic"],
    "frequent-flyer": ["SkyWing Airlines", "Harbour View Hotels"],
    "business-traveller": ["SkyWing Airlines", "Harbour View Hotels"],
    "online-shopper": ["ShopHub Marketplace", "Bamboo Books"],
    "family": ["FreshMart", "Starlight Cinemas"],
    "student": ["Noodle Republic", "Bamboo Books"],
    "coffee-lover": ["Noodle Republic"],
    "movie-goer": ["Starlight Cinemas"],
    "gadget-fan": ["Pixel Electronics", "ShopHub Marketplace"],
    "weekend-shopper": ["FreshMart", "ShopHub Marketplace"],
}


@dataclass(frozen=True)
class PlannedMember:
    """Who a demo member is and how they shop, decided before the history is played."""

    external_ref: str
    profile: Profile
    contact: Contact
    currency: str
    purchases_per_week: float
    redeem_appetite: float  # the chance, on a day with enough points, of redeeming something
    enrolled_day: int
    last_active_day: int = HISTORY_DAYS  # after it the member stops shopping (and goes dormant)

    @property
    def favourites(self) -> list[MerchantSpec]:
        names = {name for tag in self.profile.tags for name in TAG_FAVOURITES[tag]}
        return [spec for spec in MERCHANTS if spec.name in names]


@dataclass
class DemoMember:
    id: int
    plan: PlannedMember
    available: int = 0  # tracked here to decide what the member can afford


@dataclass
class Seeder:
    database: Database
    clock: FixedClock
    rng: random.Random
    keys: int = 0
    merchant_ids: dict[str, int] = field(default_factory=dict)
    rewards: list[tuple[int, str, int, int | None]] = field(default_factory=list)  # id, name, cost, stock
    redemptions: list[int] = field(default_factory=list)  # reward redemptions, oldest first
    purchases: list[tuple[int, int, DemoMember, Money]] = field(default_factory=list)  # id, merchant, ...

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database.write_engine)

    def key(self) -> str:
        self.keys += 1
        return f"seed-{self.keys}"

    def at(self, moment: datetime) -> None:
        self.clock.at = moment.astimezone(UTC)


async def seed(database: Database, clock: Clock) -> None:
    """Seed an empty, migrated database; `clock.now()` is "today", the history lies before it.

    Not idempotent as a whole: run it once, on a database without members (see `seed_if_empty`).
    """
    today = clock.now().astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=HISTORY_DAYS)
    s = Seeder(database, FixedClock(start.astimezone(UTC)), random.Random(42))

    # Catalogue, set up by an admin on the first morning; launch points are valid for 3 months.
    s.at(start + timedelta(hours=9))
    launch = UpdateProgramme(3, ExpiryPolicy.FIXED_MONTHS, hold_minutes=120, dormant_after_days=60)
    await _programme(s, launch)
    partner_ids: dict[str, int] = {}
    for name, partner_kind in PARTNERS:
        partner = await create_partner_brand(
            CreatePartnerBrand(name, partner_kind), actor=ADMIN, uow=s.uow(), clock=s.clock
        )
        partner_ids[name] = partner.id
    for spec in MERCHANTS:
        merchant = await create_merchant(
            CreateMerchant(
                name=spec.name,
                category=spec.category,
                channel=spec.channel,
                partner_id=partner_ids[spec.partner] if spec.partner else None,
                earn_rate_override=spec.earn_rate,
                pending_days=spec.pending_days,
            ),
            actor=ADMIN,
            uow=s.uow(),
            clock=s.clock,
        )
        s.merchant_ids[spec.name] = merchant.id
    for name, cost, stock in REWARDS:
        reward = await create_reward(
            CreateReward(name=name, cost_points=cost, stock=stock), actor=ADMIN, uow=s.uow(), clock=s.clock
        )
        s.rewards.append((reward.id, name, cost, stock))

    for code, name, rank, min_points, multiplier in TIERS:
        await create_tier(
            CreateTier(code, name, rank, min_points, None, Decimal(multiplier)),
            actor=ADMIN,
            uow=s.uow(),
            clock=s.clock,
        )

    for offer in demo_offers(start, today, partner_ids, s.merchant_ids):
        await create_offer(offer, actor=ADMIN, uow=s.uow(), clock=s.clock)

    people = _plan_members(s.rng)
    members: list[DemoMember] = []
    referral_codes: list[str] = []
    adjustments = {
        40: (2, 500, ReasonCode.GOODWILL, "Flight delay compensation"),
        80: (7, 300, ReasonCode.SERVICE_RECOVERY, "Order arrived damaged"),
        100: (None, -150, ReasonCode.CORRECTION, "Duplicate earn reversed"),
    }

    for day in range(HISTORY_DAYS):
        midnight = start + timedelta(days=day)
        events: list[tuple[datetime, int, str, object]] = []  # (time, tiebreak, kind, payload)
        for index, plan in enumerate(people):
            if plan.enrolled_day == day:
                moment = midnight + timedelta(hours=10, minutes=7 * index)
                events.append((moment, len(events), "enrol", (index, plan)))
        for member in members:
            if not member.plan.enrolled_day < day <= member.plan.last_active_day:
                continue
            if s.rng.random() < member.plan.purchases_per_week / 7:
                events.append((_daytime(s.rng, midnight), len(events), "purchase", member))
            if member.available >= 300 and s.rng.random() < member.plan.redeem_appetite:
                evening = midnight + timedelta(hours=21, minutes=s.rng.randrange(60))
                events.append((evening, len(events), "redeem", member))
        if day in adjustments:
            events.append((midnight + timedelta(hours=16), len(events), "adjust", adjustments[day]))
        if day in VALIDITY_CHANGES:
            events.append((midnight + timedelta(hours=9), len(events), "validity", VALIDITY_CHANGES[day]))
        events.sort(key=lambda e: (e[0], e[1]))

        for moment, _, kind, payload in events:
            s.at(moment)
            if kind == "enrol":
                index, plan = payload  # type: ignore[misc]  # the plan of this event kind
                member = await _enrol(s, index, plan, referral_codes)
                members.append(member)
            elif kind == "purchase":
                await _purchase(s, payload)  # type: ignore[arg-type]  # the payload of this event kind
            elif kind == "redeem":
                await _redeem(s, payload)  # type: ignore[arg-type]  # the payload of this event kind
            elif kind == "validity":
                await _programme(s, UpdateProgramme(payload))  # type: ignore[arg-type]  # the payload of this event kind
            else:
                await _adjust(s, members, payload)  # type: ignore[arg-type]  # the payload of this event kind
        # The nightly job: hotel stays past their return window become available.
        s.at(midnight + timedelta(hours=23, minutes=55))
        await run_maturation(s.uow, s.clock)

    # A finished experiment with a visible lift (scripts/seed_experiment.py), its clock set back.
    await seed_experiment(s, today, partner_ids["SkyWing Airlines"], ADMIN, CARD_PROCESSING)
    await _lifecycle(s, members, clock.now())

    # One member is locked on the last evening, pending a fraud review.
    s.at(start + timedelta(days=HISTORY_DAYS - 1, hours=22, minutes=30))
    suspicious = next(m for m in members if m.plan.external_ref == f"DEMO-{MEMBER_COUNT:04d}")
    await lock_member(
        ChangeMemberStatus(suspicious.id, "Unusual redemption pattern: under fraud review"),
        actor=ADMIN,
        uow=s.uow(),
        clock=s.clock,
    )
    await _segments(s, clock)
    await _campaigns(s, clock, today)


async def _segments(s: Seeder, clock: Clock) -> None:
    """Segments a marketer would keep, matched over today's profiles by a full refresh."""
    s.at(clock.now())
    await run_segment_refresh(s.uow, s.clock, full=True)
    for name, description, rule in DEMO_SEGMENTS:
        await create_segment(CreateSegment(name, description, rule), actor=ADMIN, uow=s.uow(), clock=s.clock)


async def _campaigns(s: Seeder, clock: Clock, today: datetime) -> None:
    """Triggered campaigns launched today (README, "Notifications and triggered campaigns"): the
    history before them is marked handled, so they react to what members do from now on."""
    s.at(clock.now())
    async with s.database.write_engine.begin() as conn:
        await conn.execute(update(tables_module.outbox_events).values(reacted=True))
    season = Window(today - timedelta(days=1), today + timedelta(days=90), time_zone="Asia/Shanghai")
    programme = (FundingShare(FunderKind.PROGRAMME, None, 100),)
    hotel = await create_offer(
        Offer(
            id=0,
            version=0,
            name="Harbour View Hotels: 15% off your first stay",
            mechanic=Mechanic.PERCENT_DISCOUNT,
            window=season,
            percent=Decimal(15),
            cap=Money(30_000, "CNY"),
            funding=programme,
            eligibility=Eligibility(merchant_ids=frozenset({s.merchant_ids["Harbour View Hotels"]})),
            requires_coupon=True,
        ),
        actor=ADMIN,
        uow=s.uow(),
        clock=s.clock,
    )
    nudge = await create_offer(
        Offer(
            id=0,
            version=0,
            name="First purchase nudge: 200 points",
            mechanic=Mechanic.BONUS_POINTS,
            window=season,
            points=200,
            trigger=Trigger.CAMPAIGN,
            funding=programme,
            limits=Limits(budget_points=20_000),
        ),
        actor=ADMIN,
        uow=s.uow(),
        clock=s.clock,
    )
    for name, event_type, conditions, actions in (
        (
            "A first trip: a hotel coupon",
            EventType.PURCHASE_POSTED,
            (Condition(ConditionKind.FIRST_IN_CATEGORY, category=MerchantCategory.TRAVEL),),
            (Action(ActionKind.ISSUE_COUPON, offer_id=hotel.id),),
        ),
        (
            "No purchase 14 days after sign-up: a nudge with a bonus",
            EventType.MEMBER_NO_PURCHASE,
            (),
            (
                Action(ActionKind.AWARD_POINTS, offer_id=nudge.id),
                Action(ActionKind.NOTIFY, offer_id=nudge.id, template="first_purchase_nudge"),
            ),
        ),
        (
            "10,000 points: suggest a reward",
            EventType.PURCHASE_POSTED,
            (Condition(ConditionKind.BALANCE_CROSSES, threshold=10_000),),
            (
                Action(
                    ActionKind.NOTIFY,
                    template="reward_suggestion",
                    notification=NotificationKind.OFFER_RECOMMENDED,
                ),
            ),
        ),
    ):
        await create_trigger(
            TriggerInput(name, event_type, conditions, actions), actor=ADMIN, uow=s.uow(), clock=s.clock
        )


_F, _OP = sg.SegmentField, sg.Operator
DEMO_SEGMENTS: list[tuple[str, str, sg.Rule]] = [
    (
        "Frequent diners",
        "A dining purchase a week or more over 90 days, still buying.",
        sg.AllOf(
            (
                sg.Condition(_F.CATEGORY_PURCHASES_90D, _OP.GTE, number=12, category=MerchantCategory.DINING),
                sg.Condition(_F.LIFECYCLE_STAGE, _OP.IN, values=("NEW", "ACTIVE")),
            )
        ),
    ),
    (
        "Travellers at risk",
        "Spent 1,000.00 or more on travel this year, but one trip or none in the last 90 days.",
        sg.AllOf(
            (
                sg.Condition(
                    _F.CATEGORY_SPEND_365D, _OP.GTE, number=100_000, category=MerchantCategory.TRAVEL
                ),
                sg.Condition(_F.CATEGORY_PURCHASES_90D, _OP.LTE, number=1, category=MerchantCategory.TRAVEL),
            )
        ),
    ),
    (
        "High-value dormant",
        "Spent 1,000.00 or more in a year, now idle: a win-back audience.",
        sg.AllOf(
            (
                sg.Condition(_F.SPEND_365D, _OP.GTE, number=100_000),
                sg.Condition(_F.LIFECYCLE_STAGE, _OP.IN, values=("AT_RISK", "DORMANT", "CHURNED")),
            )
        ),
    ),
]


def _plan_members(rng: random.Random) -> list[PlannedMember]:
    """The twenty demo members: profiles, habits, and when they join (within the first ten days)."""
    planned = []
    for n in range(1, MEMBER_COUNT + 1):
        region = REGIONS[(n - 1) % len(REGIONS)] if n <= len(REGIONS) else rng.choice(REGIONS)
        tags = tuple(sorted(rng.sample(TAGS, rng.randint(1, 3))))
        hong_kong = region == "Hong Kong"
        planned.append(
            PlannedMember(
                external_ref=f"DEMO-{n:04d}",
                profile=Profile(
                    birth_year=rng.randint(1962, 2004),
                    region=region,
                    income_band=rng.choice(list(IncomeBand)),
                    tags=tags,
                ),
                contact=Contact(
                    phone=f"+852 5{rng.randrange(10**6, 10**7)}"
                    if hong_kong
                    else f"+86 13{rng.randrange(10**8, 10**9)}",
                    email=f"demo{n:02d}@example.com",
                ),
                currency="HKD" if hong_kong else "CNY",
                purchases_per_week=round(rng.uniform(0.6, 3.0), 2),
                redeem_appetite=round(rng.uniform(0.02, 0.08), 3),
                enrolled_day=0 if n <= 8 else rng.randrange(1, 10),
                last_active_day=STOPS_SHOPPING_DAY if n == MEMBER_COUNT - 1 else HISTORY_DAYS,
            )
        )
    return planned


async def _enrol(s: Seeder, index: int, plan: PlannedMember, referral_codes: list[str]) -> DemoMember:
    # Two members joined through the first member's referral code.
    referral = referral_codes[0] if index in (3, 4) and referral_codes else None
    member = await enroll_member(
        EnrollMember(
            external_ref=plan.external_ref, profile=plan.profile, contact=plan.contact, referral_code=referral
        ),
        actor=ADMIN,
        uow=s.uow(),
        clock=s.clock,
    )
    referral_codes.append(member.referral_code)
    enrolled = DemoMember(id=member.id, plan=plan)
    # Its favourite shop knows it through a link it made in the shop's app: the shop's own reference.
    for spec in plan.favourites[:1]:
        await link_merchant(
            s.merchant_ids[spec.name], actor=_member(enrolled), uow=s.uow(), now=s.clock.now()
        )
    return enrolled


def _daytime(rng: random.Random, midnight: datetime) -> datetime:
    """A moment in shopping hours, local time: 08:00-22:59."""
    return midnight + timedelta(
        hours=rng.randint(8, 22), minutes=rng.randrange(60), seconds=rng.randrange(60)
    )


def demo_offers(
    start: datetime, today: datetime, partners: dict[str, int], merchants: dict[str, int]
) -> list[Offer]:
    """Co-branded offers running through the history, and a Double Eleven festival live today."""
    always = Window(start, today + timedelta(days=60), time_zone="Asia/Shanghai")
    festival = Window(today - timedelta(days=10), today + timedelta(days=5), time_zone="Asia/Shanghai")
    skywing, shophub = partners["SkyWing Airlines"], partners["ShopHub"]

    def offer(name: str, mechanic: Mechanic, window: Window, **fields: Any) -> Offer:
        return Offer(id=0, version=0, name=name, mechanic=mechanic, window=window, **fields)

    return [
        offer(
            "SkyWing dining bonus: 88 points",
            Mechanic.BONUS_POINTS,
            always,
            points=88,
            funding=(
                FundingShare(FunderKind.PARTNER, skywing, 60),
                FundingShare(FunderKind.PROGRAMME, None, 40),
            ),
            eligibility=Eligibility(categories=frozenset({MerchantCategory.DINING})),
            limits=Limits(budget_points=20_000, per_member=3, per_member_period=CapPeriod.MONTH),
        ),
        offer(
            "FreshMart weekend double points",
            Mechanic.POINTS_MULTIPLIER,
            replace(always, days_of_week=frozenset({6, 7})),
            multiplier=Decimal(2),
            funding=(FundingShare(FunderKind.MERCHANT, merchants["FreshMart"], 100),),
            eligibility=Eligibility(merchant_ids=frozenset({merchants["FreshMart"]})),
        ),
        offer(
            "Pixel Electronics: spend ¥300, save ¥30",
            Mechanic.SPEND_AND_SAVE,
            always,
            threshold=Money(30_000, "CNY"),
            amount=Money(3_000, "CNY"),
            funding=(
                FundingShare(FunderKind.MERCHANT, merchants["Pixel Electronics"], 50),
                FundingShare(FunderKind.PROGRAMME, None, 50),
            ),
            eligibility=Eligibility(merchant_ids=frozenset({merchants["Pixel Electronics"]})),
            limits=Limits(max_uses=200),
        ),
        offer(
            "ShopHub Double Eleven: 11% off, up to ¥111",
            Mechanic.PERCENT_DISCOUNT,
            festival,
            percent=Decimal(11),
            cap=Money(11_100, "CNY"),
            funding=(FundingShare(FunderKind.PARTNER, shophub, 100),),
            eligibility=Eligibility(partner_ids=frozenset({shophub}), channels=frozenset({Channel.ONLINE})),
            limits=Limits(budget_money=Money(2_000_000, "CNY")),
            exclusive_group="double-eleven",
        ),
        offer(
            "Double Eleven: 5% back in points",
            Mechanic.CASHBACK_POINTS,
            festival,
            percent=Decimal(5),
            funding=(FundingShare(FunderKind.PROGRAMME, None, 100),),
            eligibility=Eligibility(channels=frozenset({Channel.ONLINE})),
            exclusive_group="double-eleven",
        ),
    ]


async def _purchase(s: Seeder, member: DemoMember) -> None:
    # Everyone shops everywhere now and then; a member's favourites (from its tags) three times as often.
    favourites = member.plan.favourites
    weights = [spec.weight * (3 if spec in favourites else 1) for spec in MERCHANTS]
    spec = s.rng.choices(MERCHANTS, weights=weights)[0]
    if spec.channel is MerchantChannel.BOTH:
        channel = Channel.ONLINE if s.rng.random() < 0.4 else Channel.OFFLINE
    else:
        channel = Channel(spec.channel.value)
    low, high = spec.spend
    amount_minor = s.rng.randint(low, high) * 100 + s.rng.choice([0, 0, 50, s.rng.randrange(100)])
    merchant_id = s.merchant_ids[spec.name]
    key = s.key()
    # Card spending: the bank's processing posts it for the card's holder at the merchant.
    result = await post_purchase(
        PostPurchase(
            member=PresentedMember(member_id=member.id),
            amount=Money(amount_minor, member.plan.currency),
            idempotency_key=key,
            channel=channel,
            reference=f"{spec.name.split()[0].upper()}-{s.keys:06d}",
            merchant_id=merchant_id,
        ),
        actor=CARD_PROCESSING,
        uow=s.uow(),
        clock=s.clock,
    )
    member.available += result.points_earned
    s.purchases.append((result.purchase_id, merchant_id, member, Money(amount_minor, member.plan.currency)))


async def _redeem(s: Seeder, member: DemoMember) -> None:
    affordable = [r for r in s.rewards if r[2] <= member.available and (r[3] is None or r[3] > 0)]
    if not affordable:
        return
    reward_id, _, _, stock = s.rng.choice(affordable)
    try:
        result = await redeem_reward(
            RedeemReward(reward_id=reward_id, idempotency_key=s.key()),
            actor=Actor(role=Role.MEMBER, subject=f"member-{member.id}", member_id=member.id),
            uow=s.uow(),
            clock=s.clock,
        )
    except DomainError:  # e.g. out of stock: a real member would just pick something else later
        return
    member.available -= result.points
    s.redemptions.append(result.redemption_id)
    if stock is not None:
        s.rewards = [(i, n, c, st - 1 if i == reward_id and st else st) for i, n, c, st in s.rewards]


async def _adjust(
    s: Seeder, members: list[DemoMember], adjustment: tuple[int | None, int, ReasonCode, str]
) -> None:
    index, points, reason, note = adjustment
    # A debit goes to whoever holds the most points, so it can never overdraw.
    member = members[index] if index is not None else max(members, key=lambda m: (m.available, -m.id))
    result = await adjust_points(
        AdjustPoints(
            member_id=member.id, points=points, reason_code=reason, idempotency_key=s.key(), note=note
        ),
        actor=ADMIN,
        uow=s.uow(),
        clock=s.clock,
    )
    member.available += result.points


async def _programme(s: Seeder, settings: UpdateProgramme) -> None:
    await update_programme(settings, actor=ADMIN, uow=s.uow(), clock=s.clock)


async def _lifecycle(s: Seeder, members: list[DemoMember], now: datetime) -> None:
    """The last evening and this morning: rewards fulfilled and one cancelled, refunds, a family
    transfer, hotel stays still pending, POS holds (one captured, two still open), then the jobs."""
    s.at(now - timedelta(hours=14))
    for redemption_id in s.redemptions[:-2]:
        await fulfil_redemption(FulfilRedemption(redemption_id), actor=ADMIN, uow=s.uow(), clock=s.clock)
    if s.redemptions:
        await cancel_redemption(
            CancelRedemption(s.redemptions[-1], "Member changed their mind", s.key()),
            actor=ADMIN,
            uow=s.uow(),
            clock=s.clock,
        )
    # A returned gadget, in full, and half of a hotel stay.
    for name, share in (("Pixel Electronics", 1), ("Harbour View Hotels", 2)):
        merchant_id = s.merchant_ids[name]
        purchase_id, _, _, amount = next(p for p in reversed(s.purchases) if p[1] == merchant_id)
        await refund_purchase(
            RefundPurchase(purchase_id, s.key(), Money(amount.amount_minor // share, amount.currency)),
            actor=_merchant(merchant_id),
            uow=s.uow(),
            clock=s.clock,
        )
    family = [m for m in members if "family" in m.plan.profile.tags]
    if len(family) >= 2:
        giver = max(family, key=lambda m: m.available)
        receiver = next(m for m in family if m is not giver)
        await transfer_points(
            TransferPoints(200, s.key(), to_external_ref=receiver.plan.external_ref),
            actor=_member(giver),
            uow=s.uow(),
            clock=s.clock,
        )
    # Two stays booked last night: pending until their return window ends.
    hotel = s.merchant_ids["Harbour View Hotels"]
    for member in members[:2]:
        s.at(now - timedelta(hours=10))
        result = await post_purchase(
            PostPurchase(
                PresentedMember(member_id=member.id),
                Money(128_800, member.plan.currency),
                s.key(),
                channel=Channel.OFFLINE,
                merchant_id=hotel,
            ),
            actor=CARD_PROCESSING,
            uow=s.uow(),
            clock=s.clock,
        )
        s.purchases.append((result.purchase_id, hotel, member, Money(128_800, member.plan.currency)))

    # This morning at the tills: three members pay with points; one hold is captured for its purchase.
    s.at(now - timedelta(minutes=20))
    grocer = s.merchant_ids["FreshMart"]
    richest = sorted(members[:-2], key=lambda m: -m.available)[:3]
    for n, member in enumerate(richest):
        code = await create_redemption_code(actor=_member(member), uow=s.uow(), clock=s.clock)
        hold = await authorize_redemption(
            AuthorizeRedemption(code.code, s.key(), points=300 + 100 * n),
            actor=_merchant(grocer),
            uow=s.uow(),
            clock=s.clock,
        )
        if n == 0:
            # The code the member showed pays and earns at this checkout.
            bought = await post_purchase(
                PostPurchase(
                    PresentedMember(code=code.code),
                    Money(8_650, member.plan.currency),
                    s.key(),
                    channel=Channel.OFFLINE,
                ),
                actor=_merchant(grocer),
                uow=s.uow(),
                clock=s.clock,
            )
            await capture_redemption(
                CaptureRedemption(hold.redemption_id, s.key(), 250, bought.purchase_id),
                actor=_merchant(grocer),
                uow=s.uow(),
                clock=s.clock,
            )

    # The nightly jobs, as of now: lots past their date expire, tiers and dormancy are evaluated.
    s.at(now)
    await run_maturation(s.uow, s.clock)
    await run_expiry(s.uow, s.clock)
    await run_tier_evaluation(s.uow, s.clock)
    await run_dormancy(s.uow, s.clock)


CARD_PROCESSING = Actor(role=Role.PROCESSOR, subject="cards-1", processor_id=1)


def _merchant(merchant_id: int) -> Actor:
    return Actor(role=Role.MERCHANT, subject=f"pos-{merchant_id}", merchant_id=merchant_id)


def _member(member: DemoMember) -> Actor:
    return Actor(role=Role.MEMBER, subject=f"member-{member.id}", member_id=member.id)


async def has_members(database: Database) -> bool:
    async with database.read_engine.connect() as conn:
        return bool(
            (await conn.execute(select(func.count()).select_from(tables_module.members))).scalar_one()
        )


async def seed_if_empty(database: Database, clock: Clock) -> bool:
    """Seed when the database has no members yet; whether it did."""
    if await has_members(database):
        return False
    await seed(database, clock)
    return True


async def summary(database: Database) -> dict[str, int]:
    """Row counts of what the demo is made of, for the command line."""
    tables = {
        "members": tables_module.members,
        "merchants": tables_module.merchants,
        "partner brands": tables_module.partner_brands,
        "rewards": tables_module.rewards,
        "purchases": tables_module.purchases,
        "redemptions": tables_module.redemptions,
        "adjustments": tables_module.adjustments,
        "journal entries": tables_module.journal_entries,
    }
    async with database.read_engine.connect() as conn:
        return {
            name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for name, table in tables.items()
        }


def main() -> None:
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url, migration_keys(settings))

    async def run() -> dict[str, int] | None:
        database = open_database(settings)
        try:
            return await summary(database) if await seed_if_empty(database, SystemClock()) else None
        finally:
            await database.dispose()

    started = time.perf_counter()
    counts = asyncio.run(run())
    if counts is None:
        print("the database already has members: nothing seeded", file=sys.stderr)
        return
    made = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"seeded demo data in {time.perf_counter() - started:.1f}s: {made}")


if __name__ == "__main__":
    main()
