"""Statements: what a merchant or partner brand was charged and credited over a period, per offer and
day, and what its points are worth in money.

A period is half-open, [start, end): an event at `end` belongs to the next period. Events are dated
when they were recorded (the journal's time), so statements of consecutive periods never overlap or
leave a gap, and each agrees with the journal lines of its own period.

Valuing points. One point is worth `point_value` currency units (a programme setting per currency).
A line's points are valued once: value_minor = points * point_value * 10**minor_units, rounded half
to even to the minor unit (the fen). A total's value is the sum of its lines' values, never valued
again, so the lines add up to the total exactly, to the fen.

Netting refunds, for one funder (a merchant or a partner brand) of an award:
- an award counts in full on the day it was given: its points and money as award_funding holds them;
- a refund takes back, on the refund's day, never the purchase's:
  * points: what the refund's journal entry gave back to the funder's account (refunds.funders_returns,
    in proportion to the purchase's EARN entry), split between the funder's awards on the purchase
    by `apportion`, cumulatively; so a period's lines add up to the journal lines of the funder's
    account in that period, to the point;
  * money: what the refund gave back to the award's budget (refunds.give_back: the award's money times
    the share of the purchase refunded so far, rounded down), split between the award's funders by
    `apportion`, cumulatively, as refunds.award_net splits it for campaignReport;
- a rejected risk review takes the points back (its REJECT entry) like a refund, but no money: the
  award's discount and cashback stood;
- a funder's money is split between discount and cashback by apportion([discount, cashback], money),
  cumulatively too, so its cashback and discount add up to its money.
Cumulative splits (each step the split of the running total less the split before it) never drift:
a fully refunded award nets to zero points and zero money for every funder.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from domain.errors import Validation
from domain.money import MINOR_UNITS
from domain.offers import FundedCost, FunderKind
from domain.refunds import apportion, cumulative_share

# A statement is one document: at most a year of days, so its lines stay a bounded list.
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime  # excluded

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end


def period(start: datetime, end: datetime) -> Period:
    """A statement period, [start, end); VALIDATION on `period` unless 0 < end - start <= 366 days."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Validation("give times with their offset (UTC: Z)", ("period",))
    if end <= start:
        raise Validation("`to` must be after `from`", ("period", "to"))
    if end - start > MAX_PERIOD:
        raise Validation("a statement covers at most 366 days", ("period", "to"))
    return Period(start, end)


def parse_point_value(value: str, field: tuple[str, ...]) -> Decimal:
    """What one point is worth in currency units: 0 to 1000, at most 6 decimal places."""
    try:
        parsed = Decimal(value.strip())
    except (InvalidOperation, ValueError) as exc:
        raise Validation("must be a decimal number", field) from exc
    if not parsed.is_finite() or parsed < 0 or parsed > 1000:
        raise Validation("must be between 0 and 1000", field)
    if parsed.as_tuple().exponent < -6:  # type: ignore[operator]  # a finite Decimal: exponent is an int
        raise Validation("has at most 6 decimal places", field)
    return parsed


def points_value_minor(points: int, point_value: Decimal, currency: str) -> int:
    """`points` in minor units of `currency`, rounded half to even (the one rounding of a line)."""
    units = MINOR_UNITS.get(currency, 2)
    exact = Decimal(points) * point_value * Decimal(10) ** units
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class GivenAward:
    """An award on a purchase: all its funders (to split refunded money) and when it was given."""

    id: int
    offer_id: int
    currency: str
    at: datetime
    discount_minor: int
    cashback_minor: int
    funding: tuple[FundedCost, ...]  # every funder's part, in (kind, funder id) order


@dataclass(frozen=True, slots=True)
class RefundStep:
    """One refund of the purchase, or one rejection of its points (refund_minor 0, rejected True),
    with the points its journal entry gave back to the funder's account."""

    at: datetime
    refund_minor: int
    points_returned: int
    rejected: bool = False


@dataclass(frozen=True, slots=True)
class FundedPurchase:
    """A purchase with awards the funder paid part of, and its refunds and rejections in order."""

    amount_minor: int
    awards: tuple[GivenAward, ...]
    steps: tuple[RefundStep, ...]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that changed what a funder pays for an offer: an award given or part taken back."""

    at: datetime
    offer_id: int
    currency: str
    given: int = 0  # awards given
    returned: int = 0  # awards whose purchase was fully refunded
    points: int = 0
    money_minor: int = 0
    cashback_minor: int = 0


def _share(funding: Sequence[FundedCost], funder: tuple[FunderKind, int]) -> int | None:
    """The index of the funder's part of an award, None when it paid nothing of it."""
    for i, cost in enumerate(funding):
        if (cost.kind, cost.funder_id) == funder:
            return i
    return None


def _cashback(award: GivenAward, money_minor: int) -> int:
    """Of a funder's money on an award, the cashback part (the rest is discount)."""
    return apportion([award.discount_minor, award.cashback_minor], money_minor)[1]


def given_event(award: GivenAward, funder: tuple[FunderKind, int]) -> Event | None:
    """The award in full, on the day it was given: the funder's part of it (None: it paid nothing)."""
    i = _share(award.funding, funder)
    if i is None:
        return None
    cost = award.funding[i]
    cashback = _cashback(award, cost.money_minor)
    return Event(award.at, award.offer_id, award.currency, 1, 0, cost.points, cost.money_minor, cashback)


def taken_back_events(purchase: FundedPurchase, funder: tuple[FunderKind, int]) -> list[Event]:
    """What each refund and rejection of the purchase took back from the funder's awards on it, on
    its own day (see the module's rules)."""
    mine = [(a, i) for a in purchase.awards if (i := _share(a.funding, funder)) is not None]
    weights = [award.funding[i].points for award, i in mine]
    points_before = [0] * len(mine)
    money_before = [0] * len(mine)
    events: list[Event] = []
    returned_points = refunded = 0
    for step in purchase.steps:
        returned_points += step.points_returned
        refunded += step.refund_minor
        points_after = apportion(weights, returned_points)
        full = not step.rejected and refunded == purchase.amount_minor
        for n, (award, i) in enumerate(mine):
            gross = award.funding[i].money_minor
            money_after = money_before[n]
            if not step.rejected:
                award_back = cumulative_share(
                    award.discount_minor + award.cashback_minor, refunded, purchase.amount_minor
                )
                money_after = apportion([f.money_minor for f in award.funding], award_back)[i]
            points = points_after[n] - points_before[n]
            money = money_after - money_before[n]
            cashback = _cashback(award, gross - money_before[n]) - _cashback(award, gross - money_after)
            if points or money or full:
                events.append(
                    Event(step.at, award.offer_id, award.currency, 0, int(full), -points, -money, -cashback)
                )
            points_before[n], money_before[n] = points_after[n], money_after
    return events


def purchase_events(purchase: FundedPurchase, funder: tuple[FunderKind, int]) -> list[Event]:
    """Every event of one purchase for one funder: its awards given, then what was taken back."""
    given = [e for a in purchase.awards if (e := given_event(a, funder)) is not None]
    return given + taken_back_events(purchase, funder)


@dataclass(frozen=True, slots=True)
class Line:
    """One offer on one day, in one currency: what the funder paid for it, net of refunds."""

    day: date
    offer_id: int
    currency: str
    given: int
    returned: int
    points: int
    money_minor: int
    cashback_minor: int
    points_value_minor: int


@dataclass(frozen=True, slots=True)
class Total:
    """A statement's lines in one currency, added up (the value too: never valued again)."""

    currency: str
    point_value: Decimal
    given: int
    returned: int
    points: int
    money_minor: int
    cashback_minor: int
    points_value_minor: int


def lines(events: Iterable[Event], within: Period, point_values: Mapping[str, Decimal]) -> list[Line]:
    """The events recorded in the period, by day (UTC), offer and currency, each line valued once."""
    sums: dict[tuple[date, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for e in events:
        if e.at in within:
            figures = sums[(e.at.date(), e.offer_id, e.currency)]
            for k, value in enumerate((e.given, e.returned, e.points, e.money_minor, e.cashback_minor)):
                figures[k] += value
    found = []
    for (day, offer, currency), (given, returned, points, money, cashback) in sorted(sums.items()):
        worth = points_value_minor(points, point_values.get(currency, Decimal(0)), currency)
        found.append(Line(day, offer, currency, given, returned, points, money, cashback, worth))
    return found


def totals(statement_lines: Sequence[Line], point_values: Mapping[str, Decimal]) -> list[Total]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for line in statement_lines:
        figures = sums[line.currency]
        for k, value in enumerate(
            (
                line.given,
                line.returned,
                line.points,
                line.money_minor,
                line.cashback_minor,
                line.points_value_minor,
            )
        ):
            figures[k] += value
    return [Total(c, point_values.get(c, Decimal(0)), *f) for c, f in sorted(sums.items())]


@dataclass(frozen=True, slots=True)
class FunderStatement:
    """A funder's awards over a period, per offer and day, with totals per currency."""

    kind: FunderKind
    funder_id: int
    period: Period
    lines: tuple[Line, ...]
    totals: tuple[Total, ...]


def funder_statement(
    funder: tuple[FunderKind, int],
    within: Period,
    events: Iterable[Event],
    point_values: Mapping[str, Decimal],
) -> FunderStatement:
    found = lines(events, within, point_values)
    return FunderStatement(funder[0], funder[1], within, tuple(found), tuple(totals(found, point_values)))


@dataclass(frozen=True, slots=True)
class MerchantFigures:
    """What happened at a merchant in a period, in points (from its purchases, refunds and captures)."""

    points_issued: int  # earned on its purchases recorded in the period
    points_reversed: int  # taken back by its refunds in the period
    points_rejected: int  # taken back by risk reviews of its purchases rejected in the period
    points_redeemed: int  # captured at its POS in the period
    points_returned: int  # paid with at its POS and given back by its refunds in the period

    @property
    def net_issued(self) -> int:
        return self.points_issued - self.points_reversed - self.points_rejected

    @property
    def net_redeemed(self) -> int:
        return self.points_redeemed - self.points_returned


@dataclass(frozen=True, slots=True)
class MerchantStatement:
    merchant_id: int
    figures: MerchantFigures
    funded: FunderStatement  # the awards it funded, wherever they were given


_LINE_HEADER = [
    "day",
    "offer_id",
    "offer_name",
    "currency",
    "awards_given",
    "awards_refunded",
    "points",
    "money_minor",
    "cashback_minor",
    "points_value_minor",
]


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # RFC 4180 line ends
    return out.getvalue()


def funder_csv(statement: FunderStatement, offer_names: Mapping[int, str]) -> str:
    """The statement as CSV: the period, a header, one row per line, one `total` row per currency.
    Offers are named by their number (the global id's number) and name: a spreadsheet needs no lookup."""
    rows: list[Sequence[object]] = [
        ["period", statement.period.start.isoformat(), statement.period.end.isoformat()],
        _LINE_HEADER,
    ]
    for line in statement.lines:
        name = offer_names.get(line.offer_id, "")
        rows.append(
            [
                line.day.isoformat(),
                line.offer_id,
                name,
                line.currency,
                line.given,
                line.returned,
                line.points,
                line.money_minor,
                line.cashback_minor,
                line.points_value_minor,
            ]
        )
    for t in statement.totals:
        rows.append(
            [
                "total",
                "",
                "",
                t.currency,
                t.given,
                t.returned,
                t.points,
                t.money_minor,
                t.cashback_minor,
                t.points_value_minor,
            ]
        )
    return _csv(rows)


def merchant_csv(statement: MerchantStatement, offer_names: Mapping[int, str]) -> str:
    """The merchant's figures first (one `figure,name,points` row each), then its funded awards."""
    f = statement.figures
    figures = [
        ["figure", "points_issued", f.points_issued],
        ["figure", "points_reversed", f.points_reversed],
        ["figure", "points_rejected", f.points_rejected],
        ["figure", "points_redeemed", f.points_redeemed],
        ["figure", "points_returned", f.points_returned],
    ]
    return _csv(figures) + funder_csv(statement.funded, offer_names)
