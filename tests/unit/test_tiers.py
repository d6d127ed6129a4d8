"""The tier rules (domain/tiers.py), tier-only and win-back offers, and the tier use cases over fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import CreateTier, PostPurchase, UpdateTier
from domain.errors import DomainError, ErrorCode
from domain.members import Member, MemberStatus
from domain.money import Money
from domain.offers import Eligibility, SkipReason, Usage, evaluate, open_to
from domain.services.purchases import post_purchase
from domain.services.tiers import create_tier, run_tier_evaluation, update_tier
from domain.tiers import (
    Qualification,
    Tier,
    TierChangeReason,
    decide,
    decide_on_purchase,
    effective_tier,
    effective_tier_id,
    entry_tier,
    ladder_refusal,
    next_tier,
    progress,
    reached_tier,
    window_start,
    worth_checking_on_purchase,
)
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_offers import MEMBER, NOW, facts, offer
from tests.unit.test_services import given_member, given_merchant, merchant_actor

CLASSIC = Tier(1, "CLASSIC", "普卡", rank=1)
GOLD = Tier(2, "GOLD", "金卡", rank=2, min_points=1_000, earn_multiplier=Decimal("1.5"))
PLATINUM = Tier(
    3,
    "PLATINUM",
    "白金卡",
    rank=3,
    min_points=5_000,
    min_spend=Money(5_000_000, "CNY"),
    earn_multiplier=Decimal(2),
)
LADDER = [CLASSIC, GOLD, PLATINUM]
GRACE_DAYS = 30
ADMIN = Actor(Role.ADMIN, "admin-ada", request_id="req-1")


def member(tier: Tier | None = None, grace_until: datetime | None = None, **changes: object) -> Member:
    return replace(
        MEMBER,
        tier_id=None if tier is None else tier.id,
        tier_grace_until=grace_until,
        **changes,  # type: ignore[arg-type]
    )


# --- which tier -------------------------------------------------------------------------------------


def test_the_tier_without_thresholds_is_the_entry_tier() -> None:
    assert entry_tier(LADDER) is CLASSIC
    assert entry_tier([GOLD, PLATINUM]) is None
    assert entry_tier([]) is None


@pytest.mark.parametrize(
    ("points", "spend", "reached"),
    [
        (0, 0, CLASSIC),
        (999, 4_999_999, CLASSIC),
        (1_000, 0, GOLD),  # points alone
        (4_999, 4_999_999, GOLD),
        (5_000, 0, PLATINUM),
        (0, 5_000_000, PLATINUM),  # spend alone: a tier is reached on points OR spend
    ],
)
def test_a_member_reaches_the_highest_tier_whose_points_or_spend_threshold_it_meets(
    points: int, spend: int, reached: Tier
) -> None:
    assert reached_tier(LADDER, Qualification(points, spend)) is reached


def test_without_an_entry_tier_a_member_below_every_threshold_reaches_none() -> None:
    assert reached_tier([GOLD, PLATINUM], Qualification(10, 10)) is None


def test_a_member_without_a_tier_is_in_the_entry_tier() -> None:
    assert effective_tier(member(), LADDER) is CLASSIC
    assert effective_tier_id(member(), LADDER) == CLASSIC.id
    assert effective_tier_id(member(GOLD), LADDER) == GOLD.id
    assert effective_tier_id(member(), [GOLD, PLATINUM]) is None
    assert effective_tier_id(member(), []) is None


def test_the_next_tier_is_the_lowest_above() -> None:
    assert next_tier(LADDER, CLASSIC) is GOLD
    assert next_tier(LADDER, GOLD) is PLATINUM
    assert next_tier(LADDER, PLATINUM) is None
    assert next_tier([GOLD, PLATINUM], None) is GOLD


def test_the_window_starts_the_same_day_months_earlier_clamped_to_the_month() -> None:
    assert window_start(datetime(2026, 11, 25, 12, tzinfo=UTC), 12) == datetime(2025, 11, 25, 12, tzinfo=UTC)
    assert window_start(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(2023, 2, 28, tzinfo=UTC)
    assert window_start(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)


# --- progress ---------------------------------------------------------------------------------------


def test_progress_shows_what_the_next_tier_still_needs() -> None:
    start = NOW - timedelta(days=365)
    shown = progress(LADDER, member(GOLD), Qualification(1_200, 300_000), start)

    assert shown is not None
    assert (shown.tier, shown.next_tier) == (GOLD, PLATINUM)
    assert shown.points_needed == 3_800
    assert shown.spend_needed == Money(4_700_000, "CNY")
    assert (shown.currency, shown.window_start) == ("CNY", start)


def test_progress_at_the_top_has_no_next_tier_and_without_tiers_there_is_none() -> None:
    top = progress(LADDER, member(PLATINUM), Qualification(9_000, 0), NOW)

    assert top is not None
    assert (top.next_tier, top.points_needed, top.spend_needed) == (None, None, None)
    assert progress([], member(), Qualification(), NOW) is None


def test_a_next_tier_without_a_spend_threshold_needs_no_spend() -> None:
    shown = progress(LADDER, member(), Qualification(400, 0), NOW)

    assert shown is not None
    assert (shown.next_tier, shown.points_needed, shown.spend_needed) == (GOLD, 600, None)


# --- what an evaluation decides -----------------------------------------------------------------------


def test_reaching_a_higher_tier_upgrades_at_once_and_ends_any_grace() -> None:
    decision = decide(LADDER, member(GOLD, NOW + timedelta(days=3)), Qualification(5_000, 0), NOW, GRACE_DAYS)

    assert decision is not None
    assert (decision.reason, decision.from_tier, decision.to_tier) == (
        TierChangeReason.UPGRADE,
        GOLD,
        PLATINUM,
    )
    assert decision.grace_until is None


def test_a_member_who_still_qualifies_is_left_alone() -> None:
    assert decide(LADDER, member(GOLD), Qualification(1_000, 0), NOW, GRACE_DAYS) is None
    assert decide(LADDER, member(), Qualification(0, 0), NOW, GRACE_DAYS) is None


def test_below_its_tier_a_member_first_gets_a_grace_period() -> None:
    decision = decide(LADDER, member(PLATINUM), Qualification(1_500, 0), NOW, GRACE_DAYS)

    assert decision is not None
    assert (decision.reason, decision.from_tier, decision.to_tier) == (
        TierChangeReason.GRACE,
        PLATINUM,
        PLATINUM,
    )
    assert decision.grace_until == NOW + timedelta(days=30)


def test_during_the_grace_nothing_changes_and_after_it_the_member_moves_down_to_what_it_reaches() -> None:
    in_grace = member(PLATINUM, NOW + timedelta(days=1))
    ended = member(PLATINUM, NOW)

    assert decide(LADDER, in_grace, Qualification(1_500, 0), NOW, GRACE_DAYS) is None
    decision = decide(LADDER, ended, Qualification(1_500, 0), NOW, GRACE_DAYS)
    assert decision is not None
    assert (decision.reason, decision.from_tier, decision.to_tier) == (
        TierChangeReason.DOWNGRADE,
        PLATINUM,
        GOLD,
    )
    assert decision.grace_until is None


def test_a_downgrade_can_skip_tiers_down_to_the_entry_tier_or_to_none() -> None:
    decision = decide(LADDER, member(PLATINUM, NOW), Qualification(0, 0), NOW, GRACE_DAYS)
    no_entry = decide([GOLD, PLATINUM], member(GOLD, NOW), Qualification(0, 0), NOW, GRACE_DAYS)

    assert decision is not None
    assert decision.to_tier is CLASSIC
    assert no_entry is not None
    assert (no_entry.reason, no_entry.to_tier) == (TierChangeReason.DOWNGRADE, None)


def test_qualifying_again_during_the_grace_ends_it() -> None:
    decision = decide(LADDER, member(GOLD, NOW + timedelta(days=5)), Qualification(1_000, 0), NOW, GRACE_DAYS)

    assert decision is not None
    assert (decision.reason, decision.to_tier, decision.grace_until) == (
        TierChangeReason.REQUALIFIED,
        GOLD,
        None,
    )


def test_without_a_grace_period_a_member_below_its_tier_moves_down_at_once() -> None:
    decision = decide(LADDER, member(GOLD), Qualification(10, 0), NOW, grace_days=0)

    assert decision is not None
    assert (decision.reason, decision.to_tier) == (
        TierChangeReason.DOWNGRADE,
        CLASSIC,
    )


def test_a_purchase_only_ever_brings_good_news() -> None:
    up = decide_on_purchase(LADDER, member(), Qualification(1_000, 0))
    back = decide_on_purchase(LADDER, member(GOLD, NOW + timedelta(days=2)), Qualification(1_100, 0))

    assert up is not None
    assert (up.reason, up.from_tier, up.to_tier) == (
        TierChangeReason.UPGRADE,
        CLASSIC,
        GOLD,
    )
    assert back is not None
    assert back.reason is TierChangeReason.REQUALIFIED
    assert decide_on_purchase(LADDER, member(PLATINUM), Qualification(0, 0)) is None  # no grace, no downgrade
    assert decide_on_purchase(LADDER, member(GOLD, NOW), Qualification(0, 0)) is None


def test_a_purchase_is_worth_checking_below_the_top_or_in_grace_only() -> None:
    assert worth_checking_on_purchase(LADDER, member())
    assert worth_checking_on_purchase(LADDER, member(PLATINUM, NOW))
    assert not worth_checking_on_purchase(LADDER, member(PLATINUM))
    assert not worth_checking_on_purchase([], member())


# --- the ladder's shape -------------------------------------------------------------------------------


def test_the_ladder_has_one_entry_tier_at_the_bottom_and_one_spend_currency() -> None:
    second_entry = Tier(9, "BASIC", "basic", rank=0)
    entry_on_top = Tier(9, "TOP", "top", rank=9)
    below_entry = Tier(9, "LOW", "low", rank=0, min_points=10)
    in_hkd = Tier(9, "HK", "hk", rank=9, min_spend=Money(100, "HKD"))

    assert ladder_refusal(LADDER, second_entry) is not None
    assert ladder_refusal([GOLD, PLATINUM], entry_on_top) == (
        "a tier without thresholds is the entry tier: it must rank below every other",
        ("rank",),
    )
    assert ladder_refusal(LADDER, below_entry) == (
        "a tier with thresholds must rank above the entry tier",
        ("rank",),
    )
    assert ladder_refusal(LADDER, in_hkd) == (
        "every spend threshold of the ladder is in CNY",
        ("minSpend", "currency"),
    )
    assert ladder_refusal(LADDER, replace(CLASSIC, name="Classic")) is None  # a tier replacing itself
    assert ladder_refusal([GOLD], Tier(9, "BASIC", "basic", rank=0)) is None


# --- tier-only and win-back offers --------------------------------------------------------------------


def test_a_tier_only_offer_applies_to_members_of_those_tiers_the_entry_tier_by_default() -> None:
    gold_only = offer(1, eligibility=Eligibility(tier_ids=frozenset({GOLD.id})))
    classic_only = offer(2, eligibility=Eligibility(tier_ids=frozenset({CLASSIC.id})))

    as_gold = evaluate(facts(tier_id=GOLD.id), [gold_only, classic_only], {})
    as_classic = evaluate(facts(tier_id=effective_tier_id(member(), LADDER)), [gold_only, classic_only], {})

    assert [a.offer_id for a in as_gold.awards] == [1]
    assert [(s.offer_id, s.reason) for s in as_gold.skipped] == [(2, SkipReason.TIER)]
    assert [a.offer_id for a in as_classic.awards] == [2]
    assert open_to(gold_only, MEMBER, NOW, Usage(), tier_id=GOLD.id)
    assert not open_to(gold_only, MEMBER, NOW, Usage(), tier_id=CLASSIC.id)


def test_a_win_back_offer_applies_only_to_a_member_dormant_before_the_purchase() -> None:
    win_back = offer(1, eligibility=Eligibility(dormant_only=True))
    dormant = member(dormant_since=NOW - timedelta(days=3))

    assert [a.offer_id for a in evaluate(facts(member=dormant), [win_back], {}).awards] == [1]
    assert [s.reason for s in evaluate(facts(), [win_back], {}).skipped] == [SkipReason.NOT_DORMANT]
    assert dormant.shown_status is MemberStatus.DORMANT


# --- the use cases, over fakes ------------------------------------------------------------------------


async def given_ladder(db: FakeDatabase) -> list[Tier]:
    made = []
    for command in (
        CreateTier("classic", "普卡", 1),
        CreateTier("gold", "金卡", 2, min_points=1_000, earn_multiplier=Decimal("1.5")),
        CreateTier("platinum", "白金卡", 3, min_points=5_000, earn_multiplier=Decimal(2)),
    ):
        made.append(await create_tier(command, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)))
    return made


async def refusal(use_case) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        await use_case
    return info.value


async def test_an_admin_builds_the_ladder_audited_and_bad_tiers_are_refused(db: FakeDatabase) -> None:
    classic, gold, _ = await given_ladder(db)
    clock = FixedClock(NOW)

    def create(**fields: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {
            "code": "DIAMOND",
            "name": "鑽石卡",
            "rank": 4,
            "min_points": 9_000,
        } | fields
        return create_tier(CreateTier(**values), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)  # type: ignore[arg-type]

    assert (classic.code, gold.earn_multiplier) == ("CLASSIC", Decimal("1.5"))
    assert [e.action for e in db.tables.audit] == ["createTier"] * 3
    cases = [
        ({"code": "gold"}, ErrorCode.ALREADY_EXISTS, ("code",)),
        ({"rank": 2}, ErrorCode.ALREADY_EXISTS, ("rank",)),
        ({"earn_multiplier": Decimal("10.5")}, ErrorCode.VALIDATION, ("earnMultiplier",)),
        ({"earn_multiplier": Decimal("0.5")}, ErrorCode.VALIDATION, ("earnMultiplier",)),
        ({"min_points": 0}, ErrorCode.VALIDATION, ("minPoints",)),
        ({"min_points": None}, ErrorCode.VALIDATION, ("minPoints",)),  # a second entry tier
        ({"min_spend": Money(100, "USD")}, ErrorCode.VALIDATION, ("minSpend", "currency")),
        ({"code": "TWO WORDS"}, ErrorCode.VALIDATION, ("code",)),
    ]
    for change, code, field in cases:
        error = await refusal(create(**change))
        assert (error.code, error.field) == (code, field), change
    assert len(db.tables.tiers) == 3

    updated = await update_tier(
        UpdateTier(gold.id, min_points=1_200), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    assert (updated.min_points, updated.name) == (1_200, "金卡")
    assert db.tables.audit[-1].action == "updateTier"


async def test_a_purchase_earns_at_the_tier_multiplier_and_upgrades_at_once(db: FakeDatabase) -> None:
    classic, gold, _ = await given_ladder(db)
    buyer = await given_member(db)
    tea = await given_merchant(db)
    clock = FixedClock(NOW)

    async def buy(amount_minor: int, key: str) -> int:
        cmd = PostPurchase(linked(db, tea.id, buyer.id), Money(amount_minor, "CNY"), key)
        result = await post_purchase(cmd, actor=merchant_actor(tea.id), uow=FakeUnitOfWork(db), clock=clock)
        return result.points_earned

    first = await buy(100_000, "p1")  # 1,000 points at the base rate: reaches gold
    second = await buy(100_001, "p2")  # gold earns 1.5 x: 1,500.015 rounded down

    assert (first, second) == (1_000, 1_500)
    assert db.tables.members[buyer.id].tier_id == gold.id
    [change] = db.tables.tier_changes
    assert (change.reason, change.from_tier_id, change.to_tier_id) == (
        TierChangeReason.UPGRADE,
        classic.id,
        gold.id,
    )
    assert change.qualification == Qualification(1_000, 0)


async def test_the_evaluation_starts_a_grace_then_downgrades_once_it_has_passed(db: FakeDatabase) -> None:
    _, gold, _ = await given_ladder(db)
    buyer = await given_member(db)
    db.tables.members[buyer.id] = replace(db.tables.members[buyer.id], tier_id=gold.id)

    def run(at: datetime):  # type: ignore[no-untyped-def]
        return run_tier_evaluation(lambda: FakeUnitOfWork(db), FixedClock(at))

    first = await run(NOW)
    again = await run(NOW + timedelta(days=1))
    after = await run(NOW + timedelta(days=31))

    assert (first.members, first.grace_started, first.downgraded) == (1, 1, 0)
    assert (again.grace_started, again.downgraded) == (0, 0)
    assert (after.downgraded, after.members) == (1, 1)
    assert [c.reason for c in db.tables.tier_changes] == [TierChangeReason.GRACE, TierChangeReason.DOWNGRADE]
    held = db.tables.members[buyer.id]
    assert held.tier_id == db.tables.tier_changes[-1].to_tier_id
    assert held.tier_grace_until is None
    assert (
        await run(NOW + timedelta(days=40))
    ).members == 0  # in the entry tier, no purchases: not looked at
