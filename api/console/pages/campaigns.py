"""A campaign's dashboard: campaignReport's figures as plots, each panel with its table.

Panels are a list of functions from the report to a panel, or None when the report has nothing for
it; the experiment's panels (arms against the holdout) are in arms.py."""

from __future__ import annotations

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from api.console import charts
from api.console.client import JsonObject
from api.console.ids import global_id, local_id
from api.console.pages import arms
from api.console.panel import Panel, PanelBuilder
from api.console.web import Console, Page, minor, points

REPORT = (
    """query($id: ID!, $granularity: ReportGranularity!) {
  campaignReport(offerId: $id, granularity: $granularity) {
    offer { id name mechanic status startsAt endsAt budgetPoints budgetMoney { amountMinor currency }
            maxUses }
    purchases members pointsAwarded
    money { currency spendMinor discountMinor cashbackMinor }
    funding { kind funderId points moneyMinor }
    usage { pointsUsed moneyUsedMinor uses }
    experiment { """
    + arms.FIELDS
    + """ }
  }
}"""
)


def budget_burn(report: JsonObject) -> Panel | None:
    """How much of the offer's budgets and use cap is spent, today's totals (the experiment's burn
    over time is its own panel)."""
    offer, usage = report["offer"], report["usage"] or {}
    gauges: list[Markup] = []
    rows: list[list[str]] = []
    if offer["budgetPoints"]:
        used, budget = usage.get("pointsUsed", 0), offer["budgetPoints"]
        shown = f"{points(used)} of {points(budget)} points ({charts.percent_of(used, budget)})"
        gauges.append(charts.burn_gauge("Points budget used", used, budget, shown))
        rows.append(["Points", points(used), points(budget), charts.percent_of(used, budget)])
    if offer["budgetMoney"]:
        budget_money = offer["budgetMoney"]
        used, budget = usage.get("moneyUsedMinor", 0), budget_money["amountMinor"]
        currency = budget_money["currency"]
        shown = f"{minor(used, currency)} of {minor(budget, currency)} ({charts.percent_of(used, budget)})"
        gauges.append(charts.burn_gauge("Money budget used", used, budget, shown))
        share = charts.percent_of(used, budget)
        rows.append(["Money", minor(used, currency), minor(budget, currency), share])
    if offer["maxUses"]:
        used, budget = usage.get("uses", 0), offer["maxUses"]
        shown = f"{points(used)} of {points(budget)} uses ({charts.percent_of(used, budget)})"
        gauges.append(charts.burn_gauge("Uses", used, budget, shown))
        rows.append(["Uses", points(used), points(budget), charts.percent_of(used, budget)])
    if not gauges:
        return None
    return Panel("Budget used", Markup("").join(gauges), ["Budget", "Used", "Of", "Share"], rows)


def cost_by_funder(report: JsonObject) -> Panel | None:
    funding = report["funding"]
    if not funding:
        return None
    bars = [
        charts.Bar(_funder(line), line["points"], f"{points(line['points'])} pts", "primary")
        for line in funding
    ]
    rows = [[_funder(line), points(line["points"]), minor(line["moneyMinor"])] for line in funding]
    return Panel(
        "Cost by funder (points)",
        charts.bar_chart("Points each funder paid for", bars),
        ["Funder", "Points", "Money (minor units / 100)"],
        rows,
    )


def money_by_currency(report: JsonObject) -> Panel | None:
    lines = report["money"]
    if not lines:
        return None
    bars: list[charts.Bar] = []
    rows: list[list[str]] = []
    for line in lines:
        currency = line["currency"]
        for label, name, tone in (
            ("Spend", "spendMinor", "primary"),
            ("Discount", "discountMinor", "secondary"),
            ("Cashback", "cashbackMinor", "warning"),
        ):
            bars.append(charts.Bar(f"{label} {currency}", line[name], minor(line[name], currency), tone))
        rows.append(
            [
                currency,
                minor(line["spendMinor"]),
                minor(line["discountMinor"]),
                minor(line["cashbackMinor"]),
            ]
        )
    return Panel(
        "Spend, discounts and cashback",
        charts.bar_chart("Money through the offer, by currency", bars),
        ["Currency", "Spend", "Discount", "Cashback"],
        rows,
    )


def _funder(line: JsonObject) -> str:
    return line["kind"].title() + (f" #{local_id(line['funderId'])}" if line.get("funderId") else "")


# The dashboard's panels, in order: its experiment's arms first (each None without an experiment),
# then the offer's totals over its whole life.
PANELS: list[PanelBuilder] = [*arms.PANELS, budget_burn, cost_by_funder, money_by_currency]


async def dashboard(page: Page) -> Response:
    key = int(page.request.path_params["key"])
    granularity = "HOUR" if page.param("granularity") == "HOUR" else "DAY"
    answer = await page.query(REPORT, {"id": global_id("Offer", key), "granularity": granularity})
    report = answer.data.get("campaignReport")
    if report is None:
        return page.render("missing.html", status_code=404, title="No such campaign", what="campaign")
    panels = [panel for build in PANELS if (panel := build(report)) is not None]
    return page.render(
        "campaign.html",
        title=f"Campaign: {report['offer']['name']}",
        report=report,
        key=key,
        panels=panels,
        granularity=granularity,
        errors=answer.messages(),
    )


def routes(console: Console) -> list[Route]:
    return [Route("/campaigns/{key:int}", console.page(dashboard), methods=["GET"])]
