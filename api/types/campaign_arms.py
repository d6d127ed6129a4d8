"""campaignReport's experiment section: the period checked, the reads (one per figure family), the
figures and statistics computed in the domain (domain/experiments/report.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api.context import Info
from api.errors import bad_input
from api.types.experiments import CampaignExperiment
from api.types.statements import StatementPeriod
from domain import offers as do
from domain.experiments import report as dr

MAX_DAYS = {dr.Granularity.DAY: 366, dr.Granularity.HOUR: 31}


async def experiment_report(
    info: Info, offer: do.Offer, period: StatementPeriod | None, granularity: dr.Granularity
) -> CampaignExperiment | None:
    """The offer's experiment over the period, arm by arm; None without an experiment."""
    experiment = offer.experiment
    if experiment is None:
        return None
    context = info.context
    programme = await context.reader.programme()
    currency = dr.report_currency(offer, programme.currencies)
    if period is None:
        query = dr.arm_query(offer, experiment, currency, context.clock.now())
    else:
        if period.start.tzinfo is None or period.end.tzinfo is None:
            raise bad_input("`period`: give times with their offset (UTC: Z)")
        if period.end <= period.start:
            raise bad_input("`period`: `to` must be after `from`")
        query = dr.arm_query(offer, experiment, currency, context.clock.now(), period.start, period.end)
    if query.until - query.since > timedelta(days=MAX_DAYS[granularity]):
        raise bad_input(f"`period`: at most {MAX_DAYS[granularity]} days by {granularity.value}")
    reader = context.campaign_arms
    members = await reader.member_spend(query)
    exposed = await reader.exposed(query)
    costs = await reader.costs(query)
    series = await reader.series(query, granularity)
    [used] = await context.reader.offer_usage([offer.id])
    usage = do.Usage() if used is None else do.Usage(used[0], used[1], used[2])
    point_value = programme.point_values.get(currency, Decimal(0))
    report = dr.build_report(offer, query, point_value, members, exposed, costs, series, usage, granularity)
    return CampaignExperiment.from_domain(report)
