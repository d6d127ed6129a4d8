"""Guard rules on offers, pure: the burn-rate projection at its exact boundary, the ROI floor after N
participants, and the settings an admin may give."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from domain.errors import Validation
from domain.experiments.guards import (
    GuardKind,
    OfferGuard,
    RoiReading,
    burn_rate_trip,
    checked_guards,
    roi_trip,
    trip,
)
from domain.money import Money
from domain.offers import FunderKind, FundingShare, Limits, Mechanic, Offer, OfferStatus, Usage, Window

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=10)
BURN = OfferGuard(offer_id=1, kind=GuardKind.BURN_RATE, min_used_percent=0)
ROI = OfferGuard(offer_id=1, kind=GuardKind.ROI, min_participants=100, min_roi_percent=0)


def offer(budget_points: int | None = 1000, budget_money: Money | None = None, **fields: object) -> Offer:
    values: dict[str, object] = {
        "id": 1,
        "version": 1,
        "name": "Winter bonus",
        "mechanic": Mechanic.BONUS_POINTS,
        "window": Window(START, END),
        "funding": (FundingShare(FunderKind.PROGRAMME, None, 100),),
        "points": 10,
        "limits": Limits(budget_points=budget_points, budget_money=budget_money),
    } | fields
    return Offer(**values)  # type: ignore[arg-type]


# --- burn rate -------------------------------------------------------------------------------------


def test_burn_rate_fires_just_past_the_pace_that_ends_the_budget_with_the_window() -> None:
    # a quarter of the window gone: 250 of 1000 points is exactly on pace, 251 would run out early
    now = START + timedelta(days=2, hours=12)
    assert burn_rate_trip(BURN, offer(), Usage(points=250), now) is None
    fired = burn_rate_trip(BURN, offer(), Usage(points=251), now)
    assert fired is not None
    assert fired.kind is GuardKind.BURN_RATE
    # at 251 points per 2.5 days the 1000 run out after 2.5 * 1000 / 251 days (to the microsecond)
    runs_out = START + timedelta(microseconds=(2 * 86_400 + 43_200) * 10**6 * 1000 // 251)
    assert fired.reason == (
        f"251 of a budget of 1,000 points spent in 25% of the window: at this rate it runs out at "
        f"{runs_out.isoformat()}, before the window ends at {END.isoformat()}"
    )


def test_burn_rate_reads_a_money_budget_alone() -> None:
    money_only = offer(budget_points=None, budget_money=Money(50_000, "CNY"))
    now = START + timedelta(days=5)
    assert burn_rate_trip(BURN, money_only, Usage(points=10**9, money_minor=25_000), now) is None
    fired = burn_rate_trip(BURN, money_only, Usage(money_minor=25_001), now)
    assert fired is not None
    assert "25,001 of a budget of 50,000 CNY minor units" in fired.reason
    # with both budgets, either one on too fast a pace fires
    both = offer(budget_points=1000, budget_money=Money(50_000, "CNY"))
    assert burn_rate_trip(BURN, both, Usage(points=501, money_minor=0), now) is not None
    assert burn_rate_trip(BURN, both, Usage(points=500, money_minor=25_001), now) is not None
    assert burn_rate_trip(BURN, both, Usage(points=500, money_minor=25_000), now) is None


def test_burn_rate_tolerance_allows_that_much_more_than_the_budget() -> None:
    guard = replace(BURN, tolerance_percent=20)
    now = START + timedelta(days=5)  # half the window: 600 is 1200 projected, 20% over 1000
    assert burn_rate_trip(guard, offer(), Usage(points=600), now) is None
    assert burn_rate_trip(guard, offer(), Usage(points=601), now) is not None


def test_burn_rate_waits_for_its_minimum_share_of_the_budget() -> None:
    guard = replace(BURN, min_used_percent=5)
    now = START + timedelta(seconds=30)  # 49 points in 30 seconds is a furious pace, but only 4.9%
    assert burn_rate_trip(guard, offer(), Usage(points=49), now) is None
    assert burn_rate_trip(guard, offer(), Usage(points=50), now) is not None


def test_burn_rate_judges_only_inside_the_window_and_with_a_budget() -> None:
    spent = Usage(points=999)
    assert burn_rate_trip(BURN, offer(), spent, START) is None
    assert burn_rate_trip(BURN, offer(), spent, START - timedelta(days=1)) is None
    assert burn_rate_trip(BURN, offer(), spent, END) is None
    assert burn_rate_trip(BURN, offer(budget_points=None), spent, START + timedelta(days=1)) is None
    # nothing spent: no pace at all
    assert burn_rate_trip(BURN, offer(), Usage(), START + timedelta(days=1)) is None
    # the budget already used up before the end is the fastest pace of all
    assert burn_rate_trip(BURN, offer(), Usage(points=1000), START + timedelta(days=9)) is not None


def test_burn_rate_at_the_windows_end_gives_no_verdict_even_over_budget() -> None:
    assert burn_rate_trip(BURN, offer(), Usage(points=1001), END) is None
    assert burn_rate_trip(BURN, offer(), Usage(points=1001), END - timedelta(microseconds=1)) is not None


def test_burn_rate_ignores_a_zero_budget_and_judges_a_budget_of_one() -> None:
    now = START + timedelta(days=5)
    assert burn_rate_trip(BURN, offer(budget_points=0), Usage(points=5), now) is None
    assert burn_rate_trip(BURN, offer(budget_points=1), Usage(points=1), now) is not None


def test_burn_rate_minimum_share_is_used_times_100_against_budget_times_percent() -> None:
    # 499 of 10,000 is 4.99%: below 5% even though 499 * 101 would pass 50,000
    guard = replace(BURN, min_used_percent=5)
    now = START + timedelta(seconds=30)
    assert burn_rate_trip(guard, offer(budget_points=10_000), Usage(points=499), now) is None
    assert burn_rate_trip(guard, offer(budget_points=10_000), Usage(points=500), now) is not None


def test_burn_rate_reason_floors_the_run_out_time_and_the_windows_share() -> None:
    # 2.5 days * 1000 / 252 is 857,142,857,142.857... microseconds: floored, not rounded
    fired = burn_rate_trip(BURN, offer(), Usage(points=252), START + timedelta(days=2, hours=12))
    assert fired is not None
    assert (START + timedelta(microseconds=857_142_857_142)).isoformat() in fired.reason
    # 7,190 of the window's 14,400 minutes is 49.93%: the reason says 49%
    late = burn_rate_trip(BURN, offer(), Usage(points=600), START + timedelta(days=4, hours=23, minutes=50))
    assert late is not None
    assert " spent in 49% of the window" in late.reason


# --- ROI -------------------------------------------------------------------------------------------


def test_roi_fires_below_its_floor_after_enough_participants() -> None:
    assert roi_trip(ROI, RoiReading(participants=99, roi=Fraction(-1, 2))) is None
    fired = roi_trip(ROI, RoiReading(participants=100, roi=Fraction(-1, 2)))
    assert fired is not None
    assert fired.reason == "ROI -50.0% after 100 participants, below the floor of 0%"
    assert fired.kind is GuardKind.ROI
    assert roi_trip(ROI, RoiReading(participants=100, roi=Fraction(0))) is None  # break even is not below


def test_roi_floor_in_percent_compares_exactly() -> None:
    guard = replace(ROI, min_roi_percent=15)
    assert roi_trip(guard, RoiReading(500, Fraction(15, 100))) is None
    assert roi_trip(guard, RoiReading(500, Fraction(15, 100) - Fraction(1, 10**9))) is not None
    assert roi_trip(replace(ROI, min_roi_percent=-30), RoiReading(500, Fraction(-29, 100))) is None


def test_roi_without_figures_gives_no_verdict() -> None:
    assert roi_trip(ROI, None) is None
    assert roi_trip(ROI, RoiReading(participants=10_000, roi=None)) is None


# --- either ----------------------------------------------------------------------------------------


def test_a_fired_guard_or_an_offer_not_live_gives_no_verdict() -> None:
    now = START + timedelta(days=1)
    spent = Usage(points=900)
    assert trip(BURN, offer(), spent, None, now) is not None
    assert trip(replace(BURN, fired_at=now), offer(), spent, None, now) is None
    assert trip(BURN, offer(status=OfferStatus.PAUSED), spent, None, now) is None
    assert trip(ROI, offer(), spent, RoiReading(200, Fraction(-1)), now) is not None
    assert trip(ROI, offer(status=OfferStatus.ARCHIVED), spent, RoiReading(200, Fraction(-1)), now) is None


# --- settings --------------------------------------------------------------------------------------


def test_checked_guards_come_back_armed_for_the_offer() -> None:
    given = [replace(BURN, offer_id=99, id=7, fired_at=START, fired_reason="old"), replace(ROI, offer_id=99)]
    checked = checked_guards(offer(), given)
    assert [g.kind for g in checked] == [GuardKind.BURN_RATE, GuardKind.ROI]
    assert all(
        g.offer_id == 1 and g.id == 0 and g.fired_at is None and g.fired_reason is None for g in checked
    )
    assert checked_guards(offer(), []) == ()


def test_checked_guards_keep_every_setting_given() -> None:
    burn = replace(BURN, tolerance_percent=20, min_used_percent=7)
    roi = replace(ROI, min_participants=250, min_roi_percent=-15)
    assert checked_guards(offer(), [burn, roi]) == (burn, roi)


TOLERANCE = "tolerancePercent must be between 0 and 1000"
ROI_FLOOR = "minRoiPercent must be between -1000 and 100000"


@pytest.mark.parametrize(
    ("target", "guards", "field", "message"),
    [
        (offer(), [BURN, BURN], ("guards",), "at most one guard of each kind"),
        (
            offer(budget_points=None),
            [BURN],
            ("guards", "0", "kind"),
            "a burn-rate guard needs an offer with a budget",
        ),
        (offer(), [ROI, replace(BURN, tolerance_percent=-1)], ("guards", "1", "tolerancePercent"), TOLERANCE),
        (offer(), [replace(BURN, tolerance_percent=1001)], ("guards", "0", "tolerancePercent"), TOLERANCE),
        (
            offer(),
            [replace(BURN, min_used_percent=101)],
            ("guards", "0", "minUsedPercent"),
            "minUsedPercent must be between 0 and 100",
        ),
        (
            offer(),
            [replace(ROI, min_participants=-1)],
            ("guards", "0", "minParticipants"),
            "minParticipants cannot be negative",
        ),
        (offer(), [replace(ROI, min_roi_percent=-1001)], ("guards", "0", "minRoiPercent"), ROI_FLOOR),
        (offer(), [replace(ROI, min_roi_percent=100_001)], ("guards", "0", "minRoiPercent"), ROI_FLOOR),
        (offer(status=OfferStatus.ARCHIVED), [ROI], ("offerId",), "an archived offer cannot be guarded"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    target: Offer, guards: list[OfferGuard], field: tuple[str, ...], message: str
) -> None:
    with pytest.raises(Validation) as refused:
        checked_guards(target, guards)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_settings_at_their_limits_are_taken() -> None:
    edges = [replace(BURN, tolerance_percent=1000, min_used_percent=100), replace(ROI, min_roi_percent=-1000)]
    assert len(checked_guards(offer(), edges)) == 2
    assert checked_guards(offer(), [replace(ROI, min_roi_percent=100_000, min_participants=0)])
