"""campaignReport per arm (pure): the rows the read side gives, turned into each arm's figures, its
statistics against the holdout (domain/experiments/evaluation.py), its cost and ROI, the budget burn,
a time series and the CSV.

What is measured, for an offer's experiment over a period [since, until):
- the members assigned to each arm (recorded at their first evaluation for the offer, whatever the arm);
- exposed: those of them the wallet listed the offer to in the period (offer_exposures);
- spend: each assigned member's purchases in the offer's scope (its merchants, categories and partner
  brands; none named: every purchase) in the report's currency in the period, net of refunds; 0 for a
  member who bought nothing there. The holdout's members are measured alike: that is what makes it a
  control. Participants are the members with such a purchase;
- pre-spend: the same over the pre-period, as long as the period and just before it (CUPED's covariate);
- cost: what the offer's awards to the arm's members in the period cost each funder (award_funding:
  points, and discount plus cashback money), points valued at the programme's point value.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from domain.experiments.evaluation import ArmEvaluation, ArmFigures, ArmSample, arm_roi, evaluate_experiment
from domain.experiments.model import HOLDOUT, Experiment
from domain.experiments.statistics import SampleRatio
from domain.merchants import MerchantCategory
from domain.offers.model import FunderKind, Offer, Usage
from domain.statements import points_value_minor


class Granularity(StrEnum):
    DAY = "DAY"
    HOUR = "HOUR"


@dataclass(frozen=True, slots=True)
class ArmQuery:
    """What the read side is asked: the experiment, the offer's scope, the currency and the periods."""

    offer_id: int
    experiment_id: int
    currency: str
    merchant_ids: frozenset[int]
    categories: frozenset[MerchantCategory]
    partner_ids: frozenset[int]
    since: datetime
    until: datetime
    pre_since: datetime  # the pre-period is [pre_since, since)


@dataclass(frozen=True, slots=True)
class MemberSpend:
    """One assigned member: its arm, spend and purchases in the period, and its pre-period spend."""

    arm: str
    member_id: int
    spend: int
    purchases: int
    pre_spend: int


@dataclass(frozen=True, slots=True)
class ArmCost:
    """What one funder paid for the offer's awards to one arm's members in the period."""

    arm: str
    kind: FunderKind
    funder_id: int | None
    points: int
    money_minor: int


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """One arm in one bucket (a UTC day or hour): spend, buyers, and the awards' cost."""

    arm: str
    at: datetime
    spend: int = 0
    participants: int = 0
    points: int = 0
    money_minor: int = 0


@dataclass(frozen=True, slots=True)
class FunderCost:
    kind: FunderKind
    funder_id: int | None
    points: int
    points_value_minor: int
    money_minor: int

    @property
    def total_minor(self) -> int:
        return self.points_value_minor + self.money_minor


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    arm: str
    at: datetime
    spend: int
    participants: int
    cost_minor: int


@dataclass(frozen=True, slots=True)
class ArmReport:
    """An arm's figures, its comparison with the holdout (None for the holdout itself), its cost and ROI."""

    figures: ArmFigures
    evaluation: ArmEvaluation | None
    funding: tuple[FunderCost, ...]
    cost_minor: int
    roi: Fraction | None


@dataclass(frozen=True, slots=True)
class BudgetBurn:
    """What the offer's limits have counted against its budgets (shares as fractions; None: no budget)."""

    points_used: int
    money_used_minor: int
    points_share: Fraction | None
    money_share: Fraction | None
    elapsed_share: Fraction  # of the offer's window, at the period's end


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    offer_id: int
    experiment: Experiment
    currency: str
    since: datetime
    until: datetime
    pre_since: datetime
    granularity: Granularity
    arms: tuple[ArmReport, ...]  # the variants in their order, then the holdout
    sample_ratio: SampleRatio
    budget: BudgetBurn
    series: tuple[SeriesPoint, ...]


def report_currency(offer: Offer, currencies: Iterable[str]) -> str:
    """The currency of the offer's money terms, else the programme's first by code."""
    for term in (offer.eligibility.minimum_spend, offer.amount, offer.threshold, offer.cap):
        if term is not None:
            return term.currency
    return min(currencies)


def experiment_start(offer: Offer, experiment: Experiment) -> datetime:
    return max(experiment.started_at, offer.window.starts_at)


def arm_query(
    offer: Offer,
    experiment: Experiment,
    currency: str,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ArmQuery:
    """The default period runs from the experiment's start to now or the offer's end, whichever is
    first; the pre-period is as long, just before it."""
    start = since if since is not None else experiment_start(offer, experiment)
    end = until if until is not None else min(now, offer.window.ends_at)
    end = max(end, start)
    rules = offer.eligibility
    return ArmQuery(
        offer.id,
        experiment.id,
        currency,
        rules.merchant_ids,
        rules.categories,
        rules.partner_ids,
        start,
        end,
        start - (end - start),
    )


def build_report(
    offer: Offer,
    query: ArmQuery,
    point_value: Decimal,
    members: Sequence[MemberSpend],
    exposed: Mapping[str, int],
    costs: Sequence[ArmCost],
    series: Sequence[SeriesRow],
    usage: Usage,
    granularity: Granularity = Granularity.DAY,
    confidence: float = 0.95,
) -> ExperimentReport:
    """Every arm's figures and statistics; `members` is one row per assigned member."""
    experiment = offer.experiment
    assert experiment is not None, "a report per arm needs an experiment"
    by_arm: dict[str, list[MemberSpend]] = defaultdict(list)
    for row in members:
        by_arm[row.arm].append(row)
    samples = {arm: _sample(arm, by_arm.get(arm, []), exposed.get(arm, 0)) for arm in experiment.arms}
    holdout = samples[HOLDOUT]
    variants = [samples[v.key] for v in experiment.variants]
    evaluated = evaluate_experiment(variants, holdout, experiment.shares(), confidence)
    funding = _funding(costs, point_value, query.currency)
    margin = Fraction(experiment.margin_bp, 10_000)
    arms = []
    for evaluation in evaluated.arms:
        paid = funding.get(evaluation.figures.arm, ())
        cost = sum(f.total_minor for f in paid)
        arms.append(ArmReport(evaluation.figures, evaluation, paid, cost, arm_roi(evaluation, margin, cost)))
    held = funding.get(HOLDOUT, ())
    arms.append(ArmReport(evaluated.holdout, None, held, sum(f.total_minor for f in held), None))
    return ExperimentReport(
        offer.id,
        experiment,
        query.currency,
        query.since,
        query.until,
        query.pre_since,
        granularity,
        tuple(arms),
        evaluated.sample_ratio,
        burn(offer, usage, query.until),
        tuple(
            SeriesPoint(
                r.arm,
                r.at,
                r.spend,
                r.participants,
                points_value_minor(r.points, point_value, query.currency) + r.money_minor,
            )
            for r in sorted(series, key=lambda r: (r.at, _arm_order(experiment, r.arm)))
        ),
    )


def overall_roi(report: ExperimentReport) -> tuple[int, Fraction | None]:
    """The variants together against the holdout: their participants, and ROI = (the incremental
    spend of every variant arm x the margin rate - their cost) / their cost (None without cost, or
    when an arm has no holdout figure to compare with). What an ROI guard reads."""
    variants = [a for a in report.arms if a.evaluation is not None]
    participants = sum(a.figures.participants for a in variants)
    increments = [a.evaluation.incremental_spend for a in variants if a.evaluation is not None]
    cost = sum(a.cost_minor for a in variants)
    if not increments or any(i is None for i in increments) or cost <= 0:
        return participants, None
    margin = Fraction(report.experiment.margin_bp, 10_000)
    incremental = sum((i for i in increments if i is not None), Fraction(0))
    return participants, (incremental * margin - cost) / cost


def burn(offer: Offer, usage: Usage, at: datetime) -> BudgetBurn:
    limits = offer.limits
    window = offer.window
    length = (window.ends_at - window.starts_at) / timedelta(microseconds=1)
    elapsed = (min(max(at, window.starts_at), window.ends_at) - window.starts_at) / timedelta(microseconds=1)
    return BudgetBurn(
        usage.points,
        usage.money_minor,
        None if not limits.budget_points else Fraction(usage.points, limits.budget_points),
        None
        if limits.budget_money is None or not limits.budget_money.amount_minor
        else Fraction(usage.money_minor, limits.budget_money.amount_minor),
        Fraction(int(elapsed), int(length)) if length else Fraction(1),
    )


def _sample(arm: str, rows: Sequence[MemberSpend], exposed: int) -> ArmSample:
    ordered = sorted(rows, key=lambda r: r.member_id)
    return ArmSample(
        arm=arm,
        assigned=len(ordered),
        exposed=exposed,
        participants=sum(1 for r in ordered if r.purchases > 0),
        spend=[r.spend for r in ordered],
        pre_spend=[r.pre_spend for r in ordered],
    )


def _funding(
    costs: Sequence[ArmCost], point_value: Decimal, currency: str
) -> dict[str, tuple[FunderCost, ...]]:
    """Each arm's cost by funder; each funder's points valued once (statements' rounding)."""
    found: dict[str, list[FunderCost]] = defaultdict(list)
    for c in sorted(costs, key=lambda c: (c.arm, c.kind.value, c.funder_id or 0)):
        value = points_value_minor(c.points, point_value, currency)
        found[c.arm].append(FunderCost(c.kind, c.funder_id, c.points, value, c.money_minor))
    return {arm: tuple(rows) for arm, rows in found.items()}


def _arm_order(experiment: Experiment, arm: str) -> int:
    arms = experiment.arms
    return arms.index(arm) if arm in arms else len(arms)


CSV_HEADER = (
    "arm",
    "assigned",
    "exposed",
    "participants",
    "conversion_rate",
    "spend_minor",
    "spend_per_member_minor",
    "incremental_spend_per_member_minor",
    "ci_low",
    "ci_high",
    "cuped_incremental_per_member_minor",
    "cuped_ci_low",
    "cuped_ci_high",
    "conversion_p_value",
    "always_valid_low",
    "always_valid_high",
    "cost_minor",
    "roi",
)


def report_csv(report: ExperimentReport) -> str:
    """The per-arm figures, then the time series, as CSV (RFC 4180). Exact figures as decimals to 6
    places; estimates to 6 significant places; blanks where the data supports no figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["offer_id", "experiment_id", "currency", "from", "to", "sample_ratio_mismatch"])
    writer.writerow(
        [
            report.offer_id,
            report.experiment.id,
            report.currency,
            report.since.isoformat(),
            report.until.isoformat(),
            str(report.sample_ratio.mismatch).lower(),
        ]
    )
    writer.writerow(CSV_HEADER)
    for arm in report.arms:
        f, e = arm.figures, arm.evaluation
        welch = None if e is None else e.incremental_spend_per_member
        cuped = None if e is None else e.cuped
        writer.writerow(
            [
                f.arm,
                f.assigned,
                f.exposed,
                f.participants,
                _exact(f.conversion_rate),
                f.spend_total,
                _exact(f.spend_per_member),
                _estimate(None if welch is None else welch.difference),
                _estimate(None if welch is None else welch.low),
                _estimate(None if welch is None else welch.high),
                _estimate(None if cuped is None else cuped.difference),
                _estimate(None if cuped is None else cuped.low),
                _estimate(None if cuped is None else cuped.high),
                _estimate(None if e is None else e.conversion.p_value),
                _estimate(None if e is None else e.always_valid.low),
                _estimate(None if e is None else e.always_valid.high),
                arm.cost_minor,
                _exact(arm.roi),
            ]
        )
    writer.writerow([])
    writer.writerow(["at", "arm", "spend_minor", "participants", "cost_minor"])
    for point in report.series:
        writer.writerow([point.at.isoformat(), point.arm, point.spend, point.participants, point.cost_minor])
    return out.getvalue()


def _exact(value: Fraction | None) -> str:
    return "" if value is None else f"{Decimal(value.numerator) / Decimal(value.denominator):.6f}"


def _estimate(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
