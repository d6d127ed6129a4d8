"""campaignReport's figures per arm of an offer's experiment.

Money figures that are exact (totals, costs) are Int minor units; per-member means and the statistics'
estimates are Decimal minor units (rounded to 4 places), never floats; rates and p-values are Float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

import strawberry
from strawberry import relay

from api.types.enums import describe_values
from api.types.offers import FunderKind, funder_id
from domain.experiments import report as dr
from domain.experiments.model import HOLDOUT
from domain.experiments.statistics import AlwaysValid, Estimate

strawberry.enum(
    dr.Granularity, name="ReportGranularity", description="The buckets of a campaign's time series (UTC)."
)
describe_values(
    dr.Granularity,
    {
        dr.Granularity.DAY: "One point per arm and UTC day.",
        dr.Granularity.HOUR: "One point per arm and UTC hour.",
    },
)
Granularity = dr.Granularity


def _decimal(value: Fraction | float | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"))
    return Decimal(repr(value)).quantize(Decimal("0.0001"))


@strawberry.type(description="An estimate of a difference in minor units per member, with its interval.")
class SpendInterval:
    estimate: Decimal | None = strawberry.field(
        description="The arm's mean minus the holdout's; null: no data."
    )
    low: Decimal | None = strawberry.field(description="The interval's lower end; null: too little data.")
    high: Decimal | None = strawberry.field(description="The interval's upper end; null: too little data.")
    p_value: float | None = strawberry.field(description="Two-sided p-value of no difference; null: none.")

    @classmethod
    def of(cls, e: Estimate | AlwaysValid) -> SpendInterval:
        return cls(
            estimate=_decimal(e.difference), low=_decimal(e.low), high=_decimal(e.high), p_value=e.p_value
        )


@strawberry.type(description="The two-proportion z-test of the arm's conversion against the holdout's.")
class ConversionTest:
    difference: float | None = strawberry.field(description="The arm's rate minus the holdout's.")
    z: float | None = strawberry.field(description="The pooled z statistic.")
    p_value: float | None = strawberry.field(description="Two-sided p-value.")
    low: float | None = strawberry.field(description="95% interval of the difference, lower end (unpooled).")
    high: float | None = strawberry.field(description="95% interval of the difference, upper end (unpooled).")


@strawberry.type(description="One funder's cost of the offer's awards to an arm's members in the period.")
class ArmFunderCost:
    kind: FunderKind = strawberry.field(description="Who paid.")
    funder_id: relay.GlobalID | None = strawberry.field(
        description="The merchant or partner brand; null: programme."
    )
    points: int = strawberry.field(description="Points it funded.")
    points_value_minor: int = strawberry.field(description="Those points at the programme's point value.")
    money_minor: int = strawberry.field(description="Discount and cashback it funded, minor units.")
    total_minor: int = strawberry.field(description="pointsValueMinor + moneyMinor.")


@strawberry.type(description="One arm of an offer's experiment in the period: a variant, or the holdout.")
class CampaignArm:
    arm: str = strawberry.field(description="The variant's key, or 'holdout'.")
    holdout: bool = strawberry.field(description="Whether this is the holdout (members not offered it).")
    assigned: int = strawberry.field(description="Members assigned to it before the period's end (eligible).")
    exposed: int = strawberry.field(
        description="Of them, those the wallet listed the offer to in the period."
    )
    participants: int = strawberry.field(description="Of them, those with a purchase in the offer's scope.")
    conversion_rate: float | None = strawberry.field(description="participants / assigned.")
    spend_minor: int = strawberry.field(description="Their purchases in scope, net of refunds, minor units.")
    spend_per_member: Decimal | None = strawberry.field(description="spendMinor / assigned.")
    incremental_spend_per_member: SpendInterval | None = strawberry.field(
        description="Against the holdout: the difference of means with Welch's 95% interval (null: holdout)."
    )
    incremental_spend: Decimal | None = strawberry.field(
        description="incrementalSpendPerMember's estimate times assigned: the spend the offer added."
    )
    cuped: SpendInterval | None = strawberry.field(
        description="The same difference adjusted by each member's pre-period spend (CUPED), with Welch's "
        "95% interval on the adjusted figures."
    )
    variance_reduction: float | None = strawberry.field(
        description="How much of the spend's variance CUPED removed (1 - adjusted / raw)."
    )
    conversion_test: ConversionTest | None = strawberry.field(description="Conversion against the holdout.")
    always_valid: SpendInterval | None = strawberry.field(
        description="mSPRT's always-valid 95% interval of the spend difference: valid however often it is "
        "read."
    )
    funding: list[ArmFunderCost] = strawberry.field(description="The awards' cost by funder.")
    cost_minor: int = strawberry.field(description="The awards' cost in all: points valued, plus money.")
    roi: Decimal | None = strawberry.field(
        description="(incrementalSpend x marginRate - cost) / cost; null: no cost or no holdout figure."
    )

    @classmethod
    def from_domain(cls, a: dr.ArmReport) -> CampaignArm:
        f, e = a.figures, a.evaluation
        return cls(
            arm=f.arm,
            holdout=f.arm == HOLDOUT,
            assigned=f.assigned,
            exposed=f.exposed,
            participants=f.participants,
            conversion_rate=None if f.conversion_rate is None else float(f.conversion_rate),
            spend_minor=f.spend_total,
            spend_per_member=_decimal(f.spend_per_member),
            incremental_spend_per_member=None
            if e is None
            else SpendInterval.of(e.incremental_spend_per_member),
            incremental_spend=None if e is None else _decimal(e.incremental_spend),
            cuped=None if e is None or e.cuped is None else SpendInterval.of(e.cuped),
            variance_reduction=None if e is None or e.cuped is None else e.cuped.variance_reduction,
            conversion_test=None
            if e is None
            else ConversionTest(
                difference=e.conversion.difference,
                z=e.conversion.z,
                p_value=e.conversion.p_value,
                low=e.conversion.low,
                high=e.conversion.high,
            ),
            always_valid=None if e is None else SpendInterval.of(e.always_valid),
            funding=[
                ArmFunderCost(
                    kind=c.kind,
                    funder_id=funder_id(c.kind, c.funder_id),
                    points=c.points,
                    points_value_minor=c.points_value_minor,
                    money_minor=c.money_minor,
                    total_minor=c.total_minor,
                )
                for c in a.funding
            ],
            cost_minor=a.cost_minor,
            roi=_decimal(a.roi),
        )


@strawberry.type(description="The chi-square check of the members assigned to each arm against the design.")
class SampleRatioCheck:
    statistic: float | None = strawberry.field(description="The chi-square statistic.")
    degrees_of_freedom: int = strawberry.field(description="Arms minus one.")
    p_value: float | None = strawberry.field(description="Its p-value.")
    mismatch: bool = strawberry.field(
        description="p < 0.001: the split is not what was designed; distrust the other figures until "
        "explained."
    )


@strawberry.type(description="What the offer's limits have counted against its budgets.")
class BudgetBurn:
    points_used: int = strawberry.field(description="Points given so far, net of refunds.")
    money_used_minor: int = strawberry.field(description="Discount and cashback given so far, minor units.")
    points_share: float | None = strawberry.field(description="pointsUsed / budgetPoints; null: no budget.")
    money_share: float | None = strawberry.field(description="moneyUsedMinor / budgetMoney; null: no budget.")
    elapsed_share: float = strawberry.field(
        description="The share of the offer's window gone by the period's end."
    )


@strawberry.type(description="One arm in one UTC day or hour.")
class CampaignSeriesPoint:
    at: datetime = strawberry.field(description="The bucket's start (UTC).")
    arm: str = strawberry.field(description="The variant's key, or 'holdout'.")
    spend_minor: int = strawberry.field(description="Its members' spend in scope, net of refunds.")
    participants: int = strawberry.field(description="Its members who bought in scope in the bucket.")
    cost_minor: int = strawberry.field(description="The awards' cost: points valued, plus money.")


@strawberry.type(description="An offer's experiment evaluated over a period, arm by arm.")
class CampaignExperiment:
    experiment_id: int = strawberry.field(
        description="The experiment (the offer version its arms were set at)."
    )
    currency: str = strawberry.field(description="The currency of every money figure.")
    start: datetime = strawberry.field(name="from", description="The period's first instant.")
    end: datetime = strawberry.field(name="to", description="The first instant after the period.")
    pre_period_from: datetime = strawberry.field(
        description="The pre-period (CUPED's covariate) runs from here to `from`."
    )
    granularity: Granularity = strawberry.field(description="The series' buckets.")
    margin_rate: int = strawberry.field(description="The gross margin ROI counts, in basis points.")
    arms: list[CampaignArm] = strawberry.field(description="Each variant in order, then the holdout.")
    sample_ratio: SampleRatioCheck = strawberry.field(description="Whether the split matches the design.")
    budget: BudgetBurn = strawberry.field(description="The offer's budget burn.")
    series: list[CampaignSeriesPoint] = strawberry.field(description="By bucket, then arm.")
    csv: str = strawberry.field(description="The arms' figures, then the series, as CSV (RFC 4180).")

    @classmethod
    def from_domain(cls, r: dr.ExperimentReport) -> CampaignExperiment:
        b = r.budget
        return cls(
            experiment_id=r.experiment.id,
            currency=r.currency,
            start=r.since,
            end=r.until,
            pre_period_from=r.pre_since,
            granularity=r.granularity,
            margin_rate=r.experiment.margin_bp,
            arms=[CampaignArm.from_domain(a) for a in r.arms],
            sample_ratio=SampleRatioCheck(
                statistic=r.sample_ratio.statistic,
                degrees_of_freedom=r.sample_ratio.degrees_of_freedom,
                p_value=r.sample_ratio.p_value,
                mismatch=r.sample_ratio.mismatch,
            ),
            budget=BudgetBurn(
                points_used=b.points_used,
                money_used_minor=b.money_used_minor,
                points_share=None if b.points_share is None else float(b.points_share),
                money_share=None if b.money_share is None else float(b.money_share),
                elapsed_share=float(b.elapsed_share),
            ),
            series=[
                CampaignSeriesPoint(
                    at=p.at,
                    arm=p.arm,
                    spend_minor=p.spend,
                    participants=p.participants,
                    cost_minor=p.cost_minor,
                )
                for p in r.series
            ],
            csv=dr.report_csv(r),
        )


GranularityArgument = Annotated[
    Granularity, strawberry.argument(description="The time series' buckets: DAY (default) or HOUR (UTC).")
]
