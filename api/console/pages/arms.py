"""The campaign dashboard's experiment panels: each arm against the holdout, as campaignReport's
experiment reports it. Money per member comes as exact decimals in minor units and is shown in the
experiment's currency; conversion bars are drawn in basis points computed from the counts."""

from __future__ import annotations

from decimal import Decimal
from itertools import accumulate

from api.console import charts
from api.console.client import JsonObject
from api.console.ids import local_id
from api.console.panel import Panel, PanelBuilder
from api.console.web import basis_points, minor, points

INTERVAL = "estimate low high pValue"
FIELDS = f"""experimentId currency from to granularity marginRate
      arms {{ arm holdout assigned exposed participants conversionRate spendMinor spendPerMember
              incrementalSpendPerMember {{ {INTERVAL} }} incrementalSpend cuped {{ {INTERVAL} }}
              varianceReduction conversionTest {{ difference pValue low high }}
              alwaysValid {{ {INTERVAL} }}
              funding {{ kind funderId points pointsValueMinor moneyMinor totalMinor }} costMinor roi }}
      sampleRatio {{ statistic degreesOfFreedom pValue mismatch }}
      budget {{ pointsUsed moneyUsedMinor pointsShare moneyShare elapsedShare }}
      series {{ at arm spendMinor participants costMinor }}"""
CENT = Decimal("0.01")


def conversion(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    bars, rows = [], []
    for arm in experiment["arms"]:
        share = arm["participants"] * 10_000 // arm["assigned"] if arm["assigned"] else 0
        tone = "muted" if arm["holdout"] else "primary"
        bars.append(charts.Bar(arm["arm"], share, basis_points(share), tone))  # counts in the table
        test = arm["conversionTest"] or {}
        rows.append(
            [
                arm["arm"],
                points(arm["assigned"]),
                points(arm["exposed"]),
                points(arm["participants"]),
                _rate(arm["conversionRate"]),
                _rate(test.get("difference"), signed=True),
                _range(_rate(test.get("low"), signed=True), _rate(test.get("high"), signed=True)),
                _p(test.get("pValue")),
            ]
        )
    return Panel(
        "Conversion by arm against the holdout",
        charts.bar_chart("Share of each arm's members who bought in the offer's scope", bars),
        ["Arm", "Assigned", "Exposed", "Bought", "Conversion", "Against holdout", "95% interval", "p"],
        rows,
        note="Conversion: members with a purchase in scope over members assigned.",
    )


def incremental_spend(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    currency = experiment["currency"]
    intervals, rows = [], []
    for arm in _variants(experiment):
        for method, key, tone in (
            ("Welch", "incrementalSpendPerMember", "primary"),
            ("CUPED", "cuped", "secondary"),
        ):
            found = arm[key] or {}
            intervals.append(charts.Interval(f"{arm['arm']} · {method}", *_ends(found), tone=tone))
            rows.append([arm["arm"], method, *_money_interval(found, currency), _p(found.get("pValue"))])
        rows[-1].append(_rate(arm["varianceReduction"]))
        rows[-2].append("")
    if not intervals:
        return None
    return Panel(
        "Incremental spend per member (95% intervals)",
        charts.forest("Each variant's spend per member minus the holdout's, Welch and CUPED", intervals),
        ["Arm", "Method", "Estimate", "Low", "High", "p", "Variance removed"],
        rows,
        note="CUPED adjusts each member's spend by their spend before the experiment; "
        "an interval that does not cross 0 is a difference at 95%.",
    )


def always_valid(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    currency = experiment["currency"]
    intervals, rows = [], []
    for arm in _variants(experiment):
        found = arm["alwaysValid"] or {}
        intervals.append(charts.Interval(arm["arm"], *_ends(found), tone="primary"))
        rows.append([arm["arm"], *_money_interval(found, currency)])
    if not intervals:
        return None
    return Panel(
        "Always-valid interval (mSPRT)",
        charts.forest("Each variant's always-valid 95% interval of the spend difference", intervals),
        ["Arm", "Estimate", "Low", "High"],
        rows,
        note="Valid however often the dashboard is read, unlike the fixed-horizon intervals above.",
    )


def sample_ratio(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    check = experiment["sampleRatio"]
    arms = experiment["arms"]
    bars = [
        charts.Bar(a["arm"], a["assigned"], points(a["assigned"]), "muted" if a["holdout"] else "primary")
        for a in arms
    ]
    statistic = "-" if check["statistic"] is None else f"{check['statistic']:.2f}"
    warning = (
        "Sample ratio mismatch: the members are not split as designed (p < 0.001). "
        "Distrust the other figures until the cause is found."
        if check["mismatch"]
        else ""
    )
    return Panel(
        "Sample ratio check",
        charts.bar_chart("Members assigned to each arm", bars),
        ["Chi-square", "Degrees of freedom", "p", "Split as designed"],
        [
            [
                statistic,
                str(check["degreesOfFreedom"]),
                _p(check["pValue"]),
                "no" if check["mismatch"] else "yes",
            ]
        ],
        warning=warning,
    )


def roi(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    currency = experiment["currency"]
    variants = _variants(experiment)
    if not variants:
        return None
    bars = [charts.Bar(a["arm"], a["costMinor"], minor(a["costMinor"], currency)) for a in variants]
    rows = [
        [
            a["arm"],
            _money(a["incrementalSpend"], currency),
            minor(a["costMinor"], currency),
            "-" if a["roi"] is None else f"{Decimal(a['roi']) * 100:.1f}%",
        ]
        for a in variants
    ]
    return Panel(
        "Return on cost",
        charts.bar_chart("Each variant's cost of awards", bars),
        ["Arm", "Incremental spend", "Cost", "ROI"],
        rows,
        note=f"ROI = (incremental spend × {basis_points(experiment['marginRate'])} margin − cost) / cost.",
    )


def arm_funding(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None:
        return None
    currency = experiment["currency"]
    lines = [(a["arm"], f) for a in experiment["arms"] for f in a["funding"]]
    if not lines:
        return None
    bars = [
        charts.Bar(f"{arm} · {_funder(f)}", f["totalMinor"], minor(f["totalMinor"], currency))
        for arm, f in lines
    ]
    rows = [
        [
            arm,
            _funder(f),
            points(f["points"]),
            minor(f["pointsValueMinor"]),
            minor(f["moneyMinor"]),
            minor(f["totalMinor"]),
        ]
        for arm, f in lines
    ]
    return Panel(
        "Cost by funder, per arm",
        charts.bar_chart("What each funder paid in each arm", bars),
        ["Arm", "Funder", "Points", "Points' value", "Money", f"Total ({currency})"],
        rows,
    )


def burn_over_time(report: JsonObject) -> Panel | None:
    experiment = report["experiment"]
    if experiment is None or not experiment["series"]:
        return None
    currency = experiment["currency"]
    buckets: dict[str, list[int]] = {}
    for point in experiment["series"]:
        cost_and_spend = buckets.setdefault(point["at"], [0, 0])
        cost_and_spend[0] += point["costMinor"]
        cost_and_spend[1] += point["spendMinor"]
    times = sorted(buckets)
    spent = list(accumulate(buckets[at][0] for at in times))
    cut = 16 if experiment["granularity"] == "HOUR" else 10
    labels = [at[:cut].replace("T", " ") for at in times]
    budget = experiment["budget"]
    rows = [
        [label, minor(buckets[at][0]), minor(total)]
        for label, at, total in zip(labels, times, spent, strict=True)
    ]
    return Panel(
        f"Budget burn over time (by {experiment['granularity'].lower()})",
        charts.line_chart(
            "Cost of awards so far, all arms", labels, spent, f"{minor(spent[-1], currency)} in the period"
        ),
        ["Bucket (UTC)", "Cost", f"Cost so far ({currency})"],
        rows,
        note=f"Of the offer's window, {_rate(budget['elapsedShare'])} had gone by the period's end; "
        f"points budget used: {_rate(budget['pointsShare'])}.",
    )


def _variants(experiment: JsonObject) -> list[JsonObject]:
    return [a for a in experiment["arms"] if not a["holdout"]]


def _ends(found: JsonObject) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    return _dec(found.get("estimate")), _dec(found.get("low")), _dec(found.get("high"))


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _money(value: str | None, currency: str) -> str:
    """An exact decimal of minor units in the currency's major units, to the cent."""
    if value is None:
        return "-"
    amount = (Decimal(value) / 100).quantize(CENT)
    return f"{amount:,} {currency}"


def _money_interval(found: JsonObject, currency: str) -> list[str]:
    return [_money(found.get(name), currency) for name in ("estimate", "low", "high")]


def _rate(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _range(low: str, high: str) -> str:
    return "-" if low == "-" or high == "-" else f"{low} to {high}"


def _p(value: float | None) -> str:
    return "-" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def _funder(line: JsonObject) -> str:
    return line["kind"].title() + (f" #{local_id(line['funderId'])}" if line.get("funderId") else "")


# In order after the offer's totals.
PANELS: list[PanelBuilder] = [
    conversion,
    incremental_spend,
    always_valid,
    sample_ratio,
    roi,
    arm_funding,
    burn_over_time,
]
