"""campaignReport's arms, pure (`domain/experiments/report.py`): the period and pre-period, each arm's
figures from per-member rows, cost valued at the point value, ROI, budget burn, the series and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

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
