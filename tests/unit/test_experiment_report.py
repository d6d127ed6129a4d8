"""campaignReport's arms, pure (`domain/experiments/report.py`): the period and pre-period, each arm's
figures from per-member rows, cost valued at the point value, ROI, budget burn, the series and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.experiments import report as dr
from domain.experiments.evaluation import ArmSample, compare_arm
from domain.experiments.model import HOLDOUT, Experiment, Variant
from domain.money import Money
from domain.offers import Eligibility, FunderKind, Limits, Mechanic, Usage
from tests.unit.test_offers import NOW, offer

EXPERIMENT = Experiment(
    2, NOW - timedelta(days=4), 2_000, (Variant("a", 1), Variant("b", 1)), margin_bp=2_500
)
OFFER = offer(
    9,
    Mechanic.CASHBACK_POINTS,
    percent=Decimal(5),
    experiment=EXPERIMENT,
    eligibility=Eligibility(merchant_ids=frozenset({3})),
    limits=Limits(budget_points=1_000, budget_money=Money(50_000, "CNY")),
)


def test_the_default_period_runs_from_the_start_to_now_and_the_pre_period_is_as_long_before_it() -> None:
    query = dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW)
    assert (query.since, query.until, query.pre_since) == (
        NOW - timedelta(days=4),
        NOW,
        NOW - timedelta(days=8),
    )
    assert query.merchant_ids == frozenset({3})
    ended = dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW + timedelta(days=30))
    assert ended.until == OFFER.window.ends_at  # a finished offer: up to its end


def test_the_report_currency_is_the_offers_money_terms_else_the_programmes_first() -> None:
    assert dr.report_currency(OFFER, {"USD", "CNY"}) == "CNY"
    assert (
        dr.report_currency(offer(1, eligibility=Eligibility(minimum_spend=Money(100, "USD"))), {"CNY"})
        == "USD"
    )
    assert dr.report_currency(offer(1), {"USD", "CNY"}) == "CNY"


def test_each_arm_is_its_members_figures_compared_with_the_holdout_costed_and_returned() -> None:
    query = dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW)
    rows = [
        dr.MemberSpend("a", 1, 10_000, 2, 4_000),
        dr.MemberSpend("a", 4, 0, 0, 1_000),
        dr.MemberSpend("a", 6, 7_000, 1, 3_000),
        dr.MemberSpend("b", 2, 12_000, 1, 5_000),
        dr.MemberSpend("b", 5, 9_000, 1, 2_000),
        dr.MemberSpend(HOLDOUT, 3, 5_000, 1, 4_500),
        dr.MemberSpend(HOLDOUT, 7, 0, 0, 0),
        dr.MemberSpend(HOLDOUT, 8, 2_000, 1, 1_500),
    ]
    costs = [
        dr.ArmCost("a", FunderKind.PARTNER, 4, 60, 0),
        dr.ArmCost("a", FunderKind.PROGRAMME, None, 25, 100),
        dr.ArmCost("b", FunderKind.PARTNER, 4, 105, 0),
    ]
    series = [
        dr.SeriesRow(HOLDOUT, NOW - timedelta(days=1), 7_000, 2, 0, 0),
        dr.SeriesRow("b", NOW - timedelta(days=1), 21_000, 2, 105, 0),
        dr.SeriesRow("a", NOW - timedelta(days=2), 17_000, 2, 85, 100),
    ]
    report = dr.build_report(
        OFFER, query, Decimal("0.01"), rows, {"a": 2, HOLDOUT: 1}, costs, series, Usage(190, 100, 5)
    )

    a, b, held = report.arms
    assert [x.figures.arm for x in report.arms] == ["a", "b", HOLDOUT]
    assert (a.figures.assigned, a.figures.exposed, a.figures.participants, a.figures.spend_total) == (
        3,
        2,
        2,
        17_000,
    )
    assert a.figures.spend_per_member == Fraction(17_000, 3)
    assert [(f.kind, f.points, f.points_value_minor, f.money_minor) for f in a.funding] == [
        (FunderKind.PARTNER, 60, 60, 0),
        (FunderKind.PROGRAMME, 25, 25, 100),
    ]
    assert (a.cost_minor, b.cost_minor, held.cost_minor) == (185, 105, 0)
    holdout = ArmSample(HOLDOUT, 3, 1, 2, [5_000, 0, 2_000], [4_500, 0, 1_500])
    expected = compare_arm(ArmSample("a", 3, 2, 2, [10_000, 0, 7_000], [4_000, 1_000, 3_000]), holdout)
    assert a.evaluation == expected
    incremental = Fraction(17_000, 3) - Fraction(7_000, 3)
    assert expected.incremental_spend == incremental * 3
    assert a.roi == (incremental * 3 * Fraction(1, 4) - 185) / 185
    assert held.evaluation is None
    assert held.roi is None
    assert report.budget.points_share == Fraction(190, 1_000)
    assert report.budget.money_share == Fraction(100, 50_000)
    assert [(p.arm, p.cost_minor) for p in report.series] == [("a", 185), ("b", 105), (HOLDOUT, 0)]

    lines = list(csv.reader(io.StringIO(dr.report_csv(report))))
    assert lines[1][:3] == ["9", "2", "CNY"]
    assert lines[2] == list(dr.CSV_HEADER)
    assert lines[3][:7] == ["a", "3", "2", "2", "0.666667", "17000", "5666.666667"]
    assert lines[5][0] == HOLDOUT
    assert lines[5][7:16] == [""] * 9
    assert lines[7] == ["at", "arm", "spend_minor", "participants", "cost_minor"]
    assert len(lines) == 8 + 3


def test_an_arm_nobody_was_assigned_to_has_no_rates_and_the_report_still_answers() -> None:
    query = dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW)
    report = dr.build_report(OFFER, query, Decimal(0), [], {}, [], [], Usage())
    assert [a.figures.assigned for a in report.arms] == [0, 0, 0]
    assert report.arms[0].figures.conversion_rate is None
    assert report.arms[0].roi is None


# The scenario of test_each_arm_is_its_members_figures_compared_with_the_holdout_costed_and_returned.
ROWS = [
    dr.MemberSpend("a", 1, 10_000, 2, 4_000),
    dr.MemberSpend("a", 4, 0, 0, 1_000),
    dr.MemberSpend("a", 6, 7_000, 1, 3_000),
    dr.MemberSpend("b", 2, 12_000, 1, 5_000),
    dr.MemberSpend("b", 5, 9_000, 1, 2_000),
    dr.MemberSpend(HOLDOUT, 3, 5_000, 1, 4_500),
    dr.MemberSpend(HOLDOUT, 7, 0, 0, 0),
    dr.MemberSpend(HOLDOUT, 8, 2_000, 1, 1_500),
]
COSTS = [
    dr.ArmCost("a", FunderKind.PARTNER, 4, 60, 0),
    dr.ArmCost("a", FunderKind.PROGRAMME, None, 25, 100),
    dr.ArmCost("b", FunderKind.PARTNER, 4, 105, 0),
]


def scenario(**changes: object) -> dr.ExperimentReport:
    values: dict[str, object] = {
        "offer": OFFER,
        "query": dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW),
        "point_value": Decimal("0.01"),
        "members": ROWS,
        "exposed": {"a": 2, HOLDOUT: 1},
        "costs": COSTS,
        "series": [],
        "usage": Usage(190, 100, 5),
    } | changes
    return dr.build_report(**values)  # type: ignore[arg-type]


def test_a_given_period_is_kept_and_an_end_before_its_start_is_moved_to_it() -> None:
    since, until = NOW - timedelta(days=3), NOW - timedelta(days=1)
    query = dr.arm_query(OFFER, EXPERIMENT, "USD", NOW, since=since, until=until)
    assert query == dr.ArmQuery(
        9, 2, "USD", frozenset({3}), frozenset(), frozenset(), since, until, since - timedelta(days=2)
    )
    backwards = dr.arm_query(OFFER, EXPERIMENT, "CNY", NOW, since=since, until=since - timedelta(days=1))
    assert (backwards.since, backwards.until, backwards.pre_since) == (since, since, since)


def test_the_default_period_starts_at_the_offers_window_when_it_opens_after_the_experiment() -> None:
    later = offer(9, Mechanic.CASHBACK_POINTS, percent=Decimal(5), experiment=EXPERIMENT)
    late_window = replace(later, window=replace(later.window, starts_at=NOW - timedelta(days=1)))
    assert dr.arm_query(late_window, EXPERIMENT, "CNY", NOW).since == NOW - timedelta(days=1)


def test_the_report_keeps_its_period_granularity_exposures_and_series_figures() -> None:
    series = [
        dr.SeriesRow("retired", NOW - timedelta(days=1), 1, 1, 0, 0),
        dr.SeriesRow(HOLDOUT, NOW - timedelta(days=1), 7_000, 2, 0, 0),
        dr.SeriesRow("b", NOW - timedelta(days=1), 21_000, 2, 105, 7),
    ]
    report = scenario(series=series, granularity=dr.Granularity.HOUR)
    assert (report.since, report.until, report.pre_since, report.granularity) == (
        NOW - timedelta(days=4),
        NOW,
        NOW - timedelta(days=8),
        dr.Granularity.HOUR,
    )
    assert [a.figures.exposed for a in report.arms] == [2, 0, 1]  # b has no exposures: 0
    # in the experiment's arm order, an arm it no longer has last
    assert report.series == (
        dr.SeriesPoint("b", NOW - timedelta(days=1), 21_000, 2, 112),
        dr.SeriesPoint(HOLDOUT, NOW - timedelta(days=1), 7_000, 2, 0),
        dr.SeriesPoint("retired", NOW - timedelta(days=1), 1, 1, 0),
    )


def test_points_are_valued_in_the_reports_currency_minor_units() -> None:
    # 60 points at 0.01 a point are 0.60: 60 fen, but 1 yen (JPY has no minor units)
    series = [dr.SeriesRow("a", NOW - timedelta(days=1), 0, 0, 60, 0)]
    query = dr.arm_query(OFFER, EXPERIMENT, "JPY", NOW)
    report = scenario(query=query, costs=[dr.ArmCost("a", FunderKind.PARTNER, 4, 60, 0)], series=series)
    assert report.arms[0].funding == (dr.FunderCost(FunderKind.PARTNER, 4, 60, 1, 0),)
    assert report.series[0].cost_minor == 1


def test_each_arms_funders_are_ordered_by_kind_then_id_and_the_holdouts_costs_are_its_own() -> None:
    costs = [
        dr.ArmCost("a", FunderKind.PARTNER, 9, 1, 0),
        dr.ArmCost("a", FunderKind.PARTNER, 1, 2, 0),
        dr.ArmCost("a", FunderKind.PARTNER, None, 3, 0),
        dr.ArmCost(HOLDOUT, FunderKind.MERCHANT, 5, 40, 60),
    ]
    a, _, held = scenario(costs=costs).arms
    # no funder id sorts as 0, before the first id
    assert [(f.funder_id, f.points) for f in a.funding] == [(None, 3), (1, 2), (9, 1)]
    assert held.funding == (dr.FunderCost(FunderKind.MERCHANT, 5, 40, 40, 60),)
    assert held.cost_minor == 100


def test_the_confidence_carries_to_every_arms_comparison() -> None:
    report = scenario(confidence=0.8)
    holdout = ArmSample(HOLDOUT, 3, 1, 2, [5_000, 0, 2_000], [4_500, 0, 1_500])
    arm = ArmSample("a", 3, 2, 2, [10_000, 0, 7_000], [4_000, 1_000, 3_000])
    assert report.arms[0].evaluation == compare_arm(arm, holdout, 0.8)
    assert report.arms[0].evaluation != compare_arm(arm, holdout)


def test_a_report_needs_an_experiment() -> None:
    with pytest.raises(AssertionError, match=r"^a report per arm needs an experiment$"):
        scenario(offer=offer(9))


def test_overall_roi_is_the_variants_together_against_the_holdout() -> None:
    # a adds 10,000 and b 21,000 - 2 x 7,000/3 = 49,000/3; costs 185 + 105; margin 1/4
    participants, roi = dr.overall_roi(scenario())
    assert participants == 4
    assert roi == (Fraction(10_000 + Fraction(49_000, 3)) / 4 - 290) / 290
    assert roi == Fraction(1_888, 87)


def test_overall_roi_needs_cost_and_a_holdout_figure_for_every_variant() -> None:
    assert dr.overall_roi(scenario(costs=[])) == (4, None)
    free = [dr.ArmCost("a", FunderKind.PARTNER, 4, 0, 0)]
    assert dr.overall_roi(scenario(costs=free)) == (4, None)
    one = [dr.ArmCost("a", FunderKind.PARTNER, 4, 1, 0)]  # a cost of 1 minor unit is a cost
    assert dr.overall_roi(scenario(costs=one))[1] == Fraction(10_000 + Fraction(49_000, 3)) / 4 - 1
    nobody_held = [r for r in ROWS if r.arm != HOLDOUT]
    assert dr.overall_roi(scenario(members=nobody_held)) == (4, None)
    # b without members: its increment is unknown, so the whole is
    no_b = [r for r in ROWS if r.arm != "b"]
    assert dr.overall_roi(scenario(members=no_b)) == (2, None)
    holdout_only = replace(scenario(), arms=scenario().arms[2:])
    assert dr.overall_roi(holdout_only) == (0, None)


def test_budget_burn_counts_usage_against_each_budget_and_the_window_elapsed() -> None:
    window = OFFER.window
    length = window.ends_at - window.starts_at
    burn = dr.burn(OFFER, Usage(190, 100, 5), window.starts_at + length / 4)
    assert burn == dr.BudgetBurn(190, 100, Fraction(190, 1_000), Fraction(100, 50_000), Fraction(1, 4))
    assert dr.burn(OFFER, Usage(), window.starts_at - timedelta(days=1)).elapsed_share == 0
    assert dr.burn(OFFER, Usage(), window.ends_at + timedelta(days=1)).elapsed_share == 1
    # one microsecond into the window: its share is counted in whole microseconds
    first = dr.burn(OFFER, Usage(), window.starts_at + timedelta(microseconds=1))
    assert first.elapsed_share == Fraction(1, length // timedelta(microseconds=1))
    unlimited = replace(OFFER, limits=Limits())
    assert dr.burn(unlimited, Usage(5, 5, 1), NOW) == dr.BudgetBurn(5, 5, None, None, Fraction(1, 2))
    zero = replace(OFFER, limits=Limits(budget_points=0, budget_money=Money(0, "CNY")))
    assert (
        dr.burn(zero, Usage(5, 5, 1), NOW).points_share,
        dr.burn(zero, Usage(5, 5, 1), NOW).money_share,
    ) == (
        None,
        None,
    )
    instant = replace(OFFER, window=replace(OFFER.window, ends_at=OFFER.window.starts_at))
    assert dr.burn(instant, Usage(), NOW).elapsed_share == 1


def test_the_csv_has_every_figure_of_every_arm_and_the_series() -> None:
    series = [dr.SeriesRow("a", NOW - timedelta(days=2), 17_000, 2, 85, 100)]
    report = scenario(series=series)
    text = dr.report_csv(report)
    assert text.count("\r\n") == 3 + 3 + 2 + 1
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["offer_id", "experiment_id", "currency", "from", "to", "sample_ratio_mismatch"]
    assert lines[1] == ["9", "2", "CNY", report.since.isoformat(), report.until.isoformat(), "false"]
    a = report.arms[0]
    e = a.evaluation
    assert e is not None
    assert e.cuped is not None
    assert lines[3] == [
        "a",
        "3",
        "2",
        "2",
        "0.666667",
        "17000",
        "5666.666667",
        *(
            f"{x:.6g}"
            for x in (
                e.incremental_spend_per_member.difference,
                e.incremental_spend_per_member.low,
                e.incremental_spend_per_member.high,
                e.cuped.difference,
                e.cuped.low,
                e.cuped.high,
                e.conversion.p_value,
                e.always_valid.low,
                e.always_valid.high,
            )
        ),
        "185",
        f"{Decimal(a.roi.numerator) / Decimal(a.roi.denominator):.6f}" if a.roi is not None else "?",
    ]
    assert lines[3][7] == "3333.33"  # 10,000 / 3 more per member
    assert lines[5] == [HOLDOUT, "3", "1", "2", "0.666667", "7000", "2333.333333", *[""] * 9, "0", ""]
    assert lines[8] == [(NOW - timedelta(days=2)).isoformat(), "a", "17000", "2", "185"]


def test_the_csv_says_true_when_the_split_is_off() -> None:
    skewed = [dr.MemberSpend("a", m, 0, 0, 0) for m in range(1, 200)]
    report = scenario(members=skewed)
    assert report.sample_ratio.mismatch is True
    assert list(csv.reader(io.StringIO(dr.report_csv(report))))[1][-1] == "true"
