"""The statements' arithmetic (domain/statements.py): points valued half to even once per line, periods
half-open, and refunds netted in their own period so that a funder's lines follow its journal account
to the point and a fully refunded award nets to nothing."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from domain.clock import FixedClock
from domain.errors import ErrorCode, Validation
from domain.ledger import Account, AccountKind
from domain.offers import FundedCost, FunderKind
from domain.programme import Programme
from domain.refunds import award_net, cumulative_share, funders_returns
from domain.services.programme import UpdateProgramme, update_programme
from domain.statements import (
    Event,
    FundedPurchase,
    FunderStatement,
    GivenAward,
    Line,
    MerchantFigures,
    MerchantStatement,
    Period,
    RefundStep,
    Total,
    funder_csv,
    funder_statement,
    lines,
    merchant_csv,
    parse_point_value,
    period,
    points_value_minor,
    purchase_events,
    totals,
)
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import ADMIN, raised

T0 = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
BANK = (FunderKind.PARTNER, 7)
SHOP = (FunderKind.MERCHANT, 3)
ACCOUNTS = {BANK: Account(AccountKind.PARTNER_FUNDING, 7), SHOP: Account(AccountKind.MERCHANT_FUNDING, 3)}


@pytest.mark.parametrize(
    ("points", "value", "currency", "minor"),
    [
        (1, "0.01", "CNY", 1),
        (1, "0.005", "CNY", 0),  # half a fen: to the even 0
        (3, "0.005", "CNY", 2),  # 1.5 fen: to the even 2
        (5, "0.005", "CNY", 2),  # 2.5 fen: to the even 2
        (7, "0.005", "CNY", 4),  # 3.5 fen: to the even 4
        (-3, "0.005", "CNY", -2),  # taken back: symmetric
        (3, "0.5", "JPY", 2),  # no minor unit: 1.5 yen to 2
        (100, "0.0125", "HKD", 125),
        (1_000_000, "0.01", "CNY", 1_000_000),
        (10, "0", "CNY", 0),
    ],
)
def test_a_line_is_valued_half_to_even_in_minor_units(
    points: int, value: str, currency: str, minor: int
) -> None:
    assert points_value_minor(points, Decimal(value), currency) == minor


def test_a_total_adds_its_lines_values_and_never_values_again() -> None:
    events = [
        Event(T0, offer_id=1, currency="CNY", given=1, points=1),
        Event(T0, offer_id=2, currency="CNY", given=1, points=1),
    ]
    found = lines(events, Period(T0, T0 + timedelta(days=1)), {"CNY": Decimal("0.005")})
    # Each line is half a fen, to the even 0; the total is 0, not the 1 fen two points are worth.
    assert [line.points_value_minor for line in found] == [0, 0]
    [total] = totals(found, {"CNY": Decimal("0.005")})
    assert (total.points, total.points_value_minor) == (2, 0)


def test_a_period_is_half_open_and_lines_fall_on_their_utc_day() -> None:
    within = period(T0, T0 + timedelta(days=1))
    events = [
        Event(T0 - timedelta(microseconds=1), 1, "CNY", given=1, points=5),  # before: out
        Event(T0, 1, "CNY", given=1, points=10),  # the first instant: in
        Event(T0 + timedelta(minutes=59), 1, "CNY", given=1, points=20),  # the same day
        Event(T0 + timedelta(hours=1), 1, "CNY", given=1, points=40),  # the next UTC day
        Event(T0 + timedelta(hours=1), 2, "HKD", given=1, points=80),  # another offer and currency
        Event(T0 + timedelta(days=1), 1, "CNY", given=1, points=160),  # the end: out
    ]
    found = lines(events, within, {})
    assert [(str(line.day), line.offer_id, line.currency, line.given, line.points) for line in found] == [
        ("2026-10-31", 1, "CNY", 2, 30),
        ("2026-11-01", 1, "CNY", 1, 40),
        ("2026-11-01", 2, "HKD", 1, 80),
    ]
    assert [(t.currency, t.points, t.points_value_minor) for t in totals(found, {})] == [
        ("CNY", 70, 0),
        ("HKD", 80, 0),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T0, T0),
        (T0, T0 - timedelta(seconds=1)),
        (T0, T0 + timedelta(days=366, microseconds=1)),
        (T0.replace(tzinfo=None), T0 + timedelta(days=1)),
    ],
)
def test_bad_periods_are_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(Validation):
        period(start, end)


def test_a_year_and_a_day_is_the_longest_period() -> None:
    assert period(T0, T0 + timedelta(days=366)).end == T0 + timedelta(days=366)


@pytest.mark.parametrize("value", ["0.0000001", "-0.01", "1000.01", "NaN", "Infinity", "", "one"])
def test_bad_point_values_are_refused(value: str) -> None:
    with pytest.raises(Validation):
        parse_point_value(value, ("value",))


def _award(
    award_id: int,
    offer_id: int,
    points: int,
    discount: int,
    cashback: int,
    shares: dict[tuple[FunderKind, int], int],
) -> GivenAward:
    """An award split between funders by percent, as split_cost splits it (rest to the first)."""
    funders = sorted(shares, key=lambda f: (f[0].value, f[1]))
    p = [points * shares[f] // 100 for f in funders]
    m = [(discount + cashback) * shares[f] // 100 for f in funders]
    p[0] += points - sum(p)
    m[0] += discount + cashback - sum(m)
    funding = tuple(FundedCost(f[0], f[1], pp, mm) for f, pp, mm in zip(funders, p, m, strict=True))
    return GivenAward(award_id, offer_id, "CNY", T0, discount, cashback, funding)


def _journal_returns(
    base: int, awards: list[GivenAward], amount: int, refunds: list[int]
) -> list[dict[tuple[FunderKind, int], int]]:
    """What the ledger gives back to each funder account per refund: refunds.funders_returns over the
    EARN entry's legs (the issuance takes the base points)."""
    earned = base + sum(c.points for a in awards for c in a.funding)
    legs = [(Account(AccountKind.ISSUANCE), base)] + [
        (ACCOUNTS[f], sum(c.points for a in awards for c in a.funding if (c.kind, c.funder_id) == f))
        for f in (BANK, SHOP)
    ]
    steps: list[dict[tuple[FunderKind, int], int]] = []
    refunded = reversed_before = 0
    for refund in refunds:
        refunded += refund
        reversed_after = cumulative_share(earned, refunded, amount)
        back = dict(funders_returns(legs, reversed_before, reversed_after))
        steps.append({f: back.get(ACCOUNTS[f], 0) for f in (BANK, SHOP)})
        reversed_before = reversed_after
    return steps


def test_refunds_net_in_their_own_period_and_a_full_refund_nets_to_nothing() -> None:
    bonus = _award(1, 10, 77, 0, 0, {BANK: 60, SHOP: 40})
    cashback = _award(2, 20, 0, 0, 1_500, {SHOP: 70, BANK: 30})
    discount = _award(3, 30, 0, 1_000, 0, {BANK: 100})
    awards = [bonus, cashback, discount]
    amount, refunds = 30_000, [4_001, 3_333, 22_666]
    returns = _journal_returns(300, awards, amount, refunds)

    for funder in (BANK, SHOP):
        steps = tuple(
            RefundStep(T0 + timedelta(days=n + 1), refund, returns[n][funder])
            for n, refund in enumerate(refunds)
        )
        purchase = FundedPurchase(amount, tuple(awards), steps)
        events = purchase_events(purchase, funder)
        first = funder_statement(funder, Period(T0, T0 + timedelta(days=1)), events, {"CNY": Decimal("0.01")})
        rest = funder_statement(funder, Period(T0 + timedelta(days=1), T0 + timedelta(days=9)), events, {})
        paid = [c for a in awards for c in a.funding if (c.kind, c.funder_id) == funder]
        # The purchase's day holds the awards in full; the refunds' days hold what came back.
        [gross] = first.totals
        assert (gross.given, gross.points, gross.money_minor) == (
            len(paid),
            sum(c.points for c in paid),
            sum(c.money_minor for c in paid),
        )
        assert all(line.points <= 0 and line.money_minor <= 0 for line in rest.lines)
        assert str(rest.lines[0].day) == "2026-11-01"
        # All refunded: nothing is left, for points, money and cashback alike.
        [back] = rest.totals
        assert (back.points, back.money_minor, back.cashback_minor) == (
            -gross.points,
            -gross.money_minor,
            -gross.cashback_minor,
        )
        assert back.returned == len(paid)


def test_points_follow_the_journal_and_money_follows_the_offers_budget_after_every_refund() -> None:
    rng = random.Random(13)
    for _ in range(300):
        awards = [
            _award(
                n,
                n,
                rng.randint(0, 500),
                rng.randint(0, 900),
                rng.randint(0, 900),
                rng.choice([{BANK: 100}, {BANK: 55, SHOP: 45}, {SHOP: 33, BANK: 67}]),
            )
            for n in range(1, rng.randint(2, 4))
        ]
        amount = rng.randint(1, 99_999)
        cuts = sorted(rng.sample(range(1, amount), min(3, amount - 1))) if amount > 1 else []
        refunds = [b - a for a, b in zip([0, *cuts], [*cuts, amount], strict=True)]
        base = rng.randint(0, 2_000)
        returns = _journal_returns(base, awards, amount, refunds)
        for funder in (BANK, SHOP):
            steps = tuple(
                RefundStep(T0 + timedelta(hours=n + 1), r, returns[n][funder]) for n, r in enumerate(refunds)
            )
            events = purchase_events(FundedPurchase(amount, tuple(awards), steps), funder)
            refunded = 0
            for n, refund in enumerate(refunds):
                refunded += refund
                upto = [e for e in events if e.at <= T0 + timedelta(hours=n + 1)]
                paid = [c for a in awards for c in a.funding if (c.kind, c.funder_id) == funder]
                # Points: what the funder paid less what the journal gave back so far, exactly.
                given_back = sum(r[funder] for r in returns[: n + 1])
                assert sum(e.points for e in upto) == sum(c.points for c in paid) - given_back
                # Money: what award_net says the funder's parts still hold (campaignReport's netting).
                held = 0
                for award in awards:
                    money_back = cumulative_share(
                        award.discount_minor + award.cashback_minor, refunded, amount
                    )
                    net = award_net(award.discount_minor, award.cashback_minor, award.funding, 0, money_back)
                    held += sum(c.money_minor for c in net.funding if (c.kind, c.funder_id) == funder)
                assert sum(e.money_minor for e in upto) == held
                cashback = sum(e.cashback_minor for e in upto)
                assert 0 <= cashback <= sum(e.money_minor for e in upto)
            assert sum(e.points for e in events) == 0
            assert sum(e.money_minor for e in events) == 0
            assert sum(e.cashback_minor for e in events) == 0


def test_a_rejection_takes_the_points_back_but_not_the_money() -> None:
    award = _award(1, 10, 40, 0, 500, {BANK: 100})
    rejected = RefundStep(T0 + timedelta(days=1), 0, 40, rejected=True)
    events = purchase_events(FundedPurchase(10_000, (award,), (rejected,)), BANK)
    assert [(e.given, e.returned, e.points, e.money_minor) for e in events] == [
        (1, 0, 40, 500),
        (0, 0, -40, 0),
    ]


def test_the_csv_holds_the_period_the_lines_and_a_total_per_currency() -> None:
    events = [Event(T0, 10, "CNY", given=2, points=150, money_minor=300, cashback_minor=100)]
    statement: FunderStatement = funder_statement(
        BANK, Period(T0, T0 + timedelta(days=1)), events, {"CNY": Decimal("0.01")}
    )
    rows = list(csv.reader(io.StringIO(funder_csv(statement, {10: 'Tea, "the good one"'}))))
    assert rows == [
        ["period", T0.isoformat(), (T0 + timedelta(days=1)).isoformat()],
        [
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
        ],
        ["2026-10-31", "10", 'Tea, "the good one"', "CNY", "2", "0", "150", "300", "100", "150"],
        ["total", "", "", "CNY", "2", "0", "150", "300", "100", "150"],
    ]


async def test_an_admin_sets_point_values_per_accepted_currency_and_others_keep_theirs() -> None:
    db = FakeDatabase()
    clock = FixedClock(T0)

    async def update(*values: tuple[str, str]) -> Programme:
        command = UpdateProgramme(point_values=values)
        return await update_programme(command, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)

    assert (await update(("cny", "0.01"), ("HKD", "0.012"))).point_values == {
        "CNY": Decimal("0.01"),
        "HKD": Decimal("0.012"),
    }
    assert (await update(("HKD", "0.0125"))).point_values == {
        "CNY": Decimal("0.01"),
        "HKD": Decimal("0.0125"),
    }
    assert len(db.tables.audit) == 2
    for values, field, message in [
        # not a currency the programme accepts
        ((("USD", "0.01"),), ("pointValues", "currency"), "the programme accepts ['CNY', 'HKD', 'JPY']"),
        ((("CNY", "0.01"), ("cny", "0.02")), ("pointValues", "currency"), "CNY is given twice"),
        ((("CNY", "0.0000001"),), ("pointValues", "value"), "has at most 6 decimal places"),
    ]:
        refusal = await raised(update(*values))
        assert (refusal.code, refusal.field, refusal.message) == (ErrorCode.VALIDATION, field, message)
    assert db.programme.point_values == {"CNY": Decimal("0.01"), "HKD": Decimal("0.0125")}
    assert len(db.tables.audit) == 2


# Exact values for each rule and refusal, so that a changed bound, message or field shows.


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (
            T0.replace(tzinfo=None),
            T0 + timedelta(days=1),
            ("period",),
            "give times with their offset (UTC: Z)",
        ),
        (
            T0,
            (T0 + timedelta(days=1)).replace(tzinfo=None),
            ("period",),
            "give times with their offset (UTC: Z)",
        ),
        (T0, T0, ("period", "to"), "`to` must be after `from`"),
        (
            T0,
            T0 + timedelta(days=366, microseconds=1),
            ("period", "to"),
            "a statement covers at most 366 days",
        ),
    ],
)
def test_a_refused_period_says_why_and_where(
    start: datetime, end: datetime, field: tuple[str, ...], message: str
) -> None:
    with pytest.raises(Validation) as refusal:
        period(start, end)
    assert (refusal.value.field, refusal.value.message) == (field, message)


def test_the_shortest_period_is_one_microsecond() -> None:
    assert period(T0, T0 + timedelta(microseconds=1)) == Period(T0, T0 + timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("0", Decimal(0)),
        ("1000", Decimal(1000)),
        (" 0.000001 ", Decimal("0.000001")),  # six places, around spaces
        ("12.5", Decimal("12.5")),
    ],
)
def test_point_values_from_0_to_1000_with_six_places_are_accepted(value: str, parsed: Decimal) -> None:
    assert parse_point_value(value, ("value",)) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("one", "must be a decimal number"),
        ("", "must be a decimal number"),
        ("-0.000001", "must be between 0 and 1000"),
        ("1000.000001", "must be between 0 and 1000"),
        ("NaN", "must be between 0 and 1000"),
        ("-Infinity", "must be between 0 and 1000"),
        ("0.0000001", "has at most 6 decimal places"),
    ],
)
def test_a_refused_point_value_says_why_on_the_given_field(value: str, message: str) -> None:
    with pytest.raises(Validation) as refusal:
        parse_point_value(value, ("pointValues", "value"))
    assert (refusal.value.field, refusal.value.message) == (("pointValues", "value"), message)


def test_a_currency_without_a_listed_minor_unit_is_valued_in_hundredths() -> None:
    assert points_value_minor(3, Decimal("0.01"), "XYZ") == 3


def test_every_figure_of_a_line_and_a_total_is_summed() -> None:
    events = [
        Event(T0, 1, "CNY", given=1, returned=0, points=100, money_minor=500, cashback_minor=200),
        Event(
            T0 + timedelta(minutes=1),
            1,
            "CNY",
            given=0,
            returned=1,
            points=-30,
            money_minor=-70,
            cashback_minor=-20,
        ),
        Event(T0, 2, "HKD", given=2, returned=1, points=7, money_minor=9, cashback_minor=4),
    ]
    values = {"CNY": Decimal("0.02"), "HKD": Decimal("0.5")}
    found = lines(events, Period(T0, T0 + timedelta(days=1)), values)
    assert [
        (
            str(x.day),
            x.offer_id,
            x.currency,
            x.given,
            x.returned,
            x.points,
            x.money_minor,
            x.cashback_minor,
            x.points_value_minor,
        )
        for x in found
    ] == [
        ("2026-10-31", 1, "CNY", 1, 1, 70, 430, 180, 140),
        ("2026-10-31", 2, "HKD", 2, 1, 7, 9, 4, 350),
    ]
    assert totals(found, values) == [
        Total("CNY", Decimal("0.02"), 1, 1, 70, 430, 180, 140),
        Total("HKD", Decimal("0.5"), 2, 1, 7, 9, 4, 350),
    ]
    # A currency with no point value set is worth nothing, and says so.
    assert totals(lines(events, Period(T0, T0 + timedelta(days=1)), {}), {})[0] == Total(
        "CNY", Decimal(0), 1, 1, 70, 430, 180, 0
    )


def test_a_statement_names_its_funder_and_period() -> None:
    within = Period(T0, T0 + timedelta(days=1))
    statement = funder_statement(
        SHOP, within, [Event(T0, 1, "CNY", given=1, points=3)], {"CNY": Decimal("1")}
    )
    assert (statement.kind, statement.funder_id, statement.period) == (FunderKind.MERCHANT, 3, within)
    assert statement.lines == (Line(T0.date(), 1, "CNY", 1, 0, 3, 0, 0, 300),)
    assert statement.totals == (Total("CNY", Decimal("1"), 1, 0, 3, 0, 0, 300),)


def test_a_funder_that_paid_nothing_of_a_purchase_has_no_events() -> None:
    award = _award(1, 10, 40, 300, 200, {BANK: 100})
    step = RefundStep(T0 + timedelta(days=1), 1_000, 0)  # the shop's account got nothing back
    assert purchase_events(FundedPurchase(1_000, (award,), (step,)), SHOP) == []


def test_each_refund_takes_back_its_points_money_and_cashback_and_the_last_returns_the_award() -> None:
    award = _award(1, 10, 40, 300, 200, {BANK: 100})
    day1, day2, day3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
    steps = (
        RefundStep(day1, 500, 20),
        RefundStep(day2, 0, 0),  # nothing taken back: no event
        RefundStep(day3, 500, 20),
    )
    events = purchase_events(FundedPurchase(1_000, (award,), steps), BANK)
    assert events == [
        Event(T0, 10, "CNY", given=1, returned=0, points=40, money_minor=500, cashback_minor=200),
        Event(day1, 10, "CNY", given=0, returned=0, points=-20, money_minor=-250, cashback_minor=-100),
        Event(day3, 10, "CNY", given=0, returned=1, points=-20, money_minor=-250, cashback_minor=-100),
    ]


def test_a_full_refund_returns_an_award_even_when_it_takes_nothing_back() -> None:
    # An award with no points and no money of the funder's... is still its award, returned in full.
    award = GivenAward(1, 10, "CNY", T0, 0, 0, (FundedCost(FunderKind.PARTNER, 7, 0, 0),))
    steps = (RefundStep(T0 + timedelta(days=1), 400, 0), RefundStep(T0 + timedelta(days=2), 600, 0))
    events = purchase_events(FundedPurchase(1_000, (award,), steps), BANK)
    assert events == [
        Event(T0, 10, "CNY", given=1),
        Event(T0 + timedelta(days=2), 10, "CNY", returned=1),
    ]


def test_a_rejection_after_a_partial_refund_keeps_the_money_already_taken_back() -> None:
    award = _award(1, 10, 40, 0, 500, {BANK: 60, SHOP: 40})
    steps = (
        RefundStep(T0 + timedelta(days=1), 500, 12),
        RefundStep(T0 + timedelta(days=2), 0, 12, rejected=True),
        RefundStep(T0 + timedelta(days=3), 500, 0),
    )
    events = purchase_events(FundedPurchase(1_000, (award,), steps), BANK)
    # The bank paid 24 points and 300 of the 500 cashback; half refunded takes back 150 of it.
    assert [(e.given, e.returned, e.points, e.money_minor, e.cashback_minor) for e in events] == [
        (1, 0, 24, 300, 300),
        (0, 0, -12, -150, -150),
        (0, 0, -12, 0, 0),
        (0, 1, 0, -150, -150),
    ]


def test_merchant_figures_net_what_was_taken_back() -> None:
    figures = MerchantFigures(
        points_issued=1_000, points_reversed=100, points_rejected=30, points_redeemed=500, points_returned=70
    )
    assert (figures.net_issued, figures.net_redeemed) == (870, 430)


def test_the_merchant_csv_lists_its_figures_before_its_funded_awards() -> None:
    within = Period(T0, T0 + timedelta(days=1))
    funded = funder_statement(SHOP, within, [Event(T0, 10, "CNY", given=1, points=5)], {})
    statement = MerchantStatement(3, MerchantFigures(1, 2, 3, 4, 5), funded)
    rows = list(csv.reader(io.StringIO(merchant_csv(statement, {}))))
    assert rows[:5] == [
        ["figure", "points_issued", "1"],
        ["figure", "points_reversed", "2"],
        ["figure", "points_rejected", "3"],
        ["figure", "points_redeemed", "4"],
        ["figure", "points_returned", "5"],
    ]
    assert rows[5:] == [
        ["period", T0.isoformat(), (T0 + timedelta(days=1)).isoformat()],
        [
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
        ],
        ["2026-10-31", "10", "", "CNY", "1", "0", "5", "0", "0", "0"],  # an unnamed offer: no name
        ["total", "", "", "CNY", "1", "0", "5", "0", "0", "0"],
    ]
    assert merchant_csv(statement, {}).count("\r\n") == 9  # RFC 4180 line ends, one per row


def test_a_line_is_valued_in_its_own_currencys_minor_unit() -> None:
    # The yen has no minor unit: 3 points at 0.5 yen are 1.5 yen, to the even 2 (not 150 hundredths).
    found = lines(
        [Event(T0, 1, "JPY", given=1, points=3)], Period(T0, T0 + timedelta(days=1)), {"JPY": Decimal("0.5")}
    )
    assert [line.points_value_minor for line in found] == [2]


def test_a_line_is_valued_half_to_even_whatever_the_callers_decimal_rounding() -> None:
    # The rounding is the statement's rule, not the thread's decimal context: 2.5 fen stay 2, not 3.
    with localcontext(rounding=ROUND_HALF_UP):
        assert points_value_minor(5, Decimal("0.005"), "CNY") == 2
        assert points_value_minor(7, Decimal("0.005"), "CNY") == 4
