"""The risk rules, each at its boundary: exactly at the limit is allowed, one over fires."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ErrorCode, Validation
from domain.money import Money
from domain.risk import (
    Counted,
    CounterKey,
    CounterScope,
    Movement,
    MovementKind,
    RiskAction,
    RiskFigures,
    RiskRule,
    RuleKind,
    assess,
    day_number,
    default_rules,
    earning_claims,
    earning_figures,
    validate_rule,
    window_number,
)

AT = datetime(2026, 11, 27, 12, 34, 56, tzinfo=UTC)


def earning(amount_minor: int = 10_000, points: int = 100, currency: str = "CNY") -> Movement:
    return Movement(MovementKind.EARN, 7, points, AT, Money(amount_minor, currency), merchant_id=3)


def rule(kind: RuleKind, limit: int, action: RiskAction = RiskAction.HOLD, **settings: object) -> RiskRule:
    return RiskRule(1, kind, action, limit, **settings)  # type: ignore[arg-type]  # test settings by name


def test_a_purchase_amount_at_the_limit_is_allowed_and_one_minor_unit_over_is_held() -> None:
    limit = rule(RuleKind.PURCHASE_AMOUNT, 5_000_000, currency="USD")

    at = assess(earning(5_000_000, currency="USD"), RiskFigures(), [limit])
    over = assess(earning(5_000_001, currency="USD"), RiskFigures(), [limit])
    other_currency = assess(earning(9_000_000, currency="CNY"), RiskFigures(), [limit])

    assert at.action is RiskAction.ALLOW
    assert at.outcomes == ()
    assert over.action is RiskAction.HOLD
    [outcome] = over.outcomes
    assert (outcome.rule_id, outcome.figure, outcome.limit) == (1, 5_000_001, 5_000_000)
    assert other_currency.action is RiskAction.ALLOW


def test_the_merchants_points_today_count_this_earning() -> None:
    limit = rule(RuleKind.MERCHANT_DAILY_POINTS, 1_000)

    at = assess(earning(points=100), RiskFigures(merchant_points_today=900), [limit])
    over = assess(earning(points=101), RiskFigures(merchant_points_today=900), [limit])

    assert at.action is RiskAction.ALLOW
    assert over.action is RiskAction.HOLD
    assert over.outcomes[0].figure == 1_001


def test_velocity_counts_this_purchase_in_its_window() -> None:
    limit = rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=10)

    tenth = assess(earning(), RiskFigures(purchases_in_window={10: 9}), [limit])
    eleventh = assess(earning(), RiskFigures(purchases_in_window={10: 10}), [limit])
    other_window = assess(earning(), RiskFigures(purchases_in_window={60: 50}), [limit])

    assert tenth.action is RiskAction.ALLOW
    assert eleventh.action is RiskAction.HOLD
    assert eleventh.outcomes[0].figure == 11
    assert other_window.action is RiskAction.ALLOW


def test_the_members_points_today_count_this_earning() -> None:
    limit = rule(RuleKind.MEMBER_DAILY_POINTS, 500_000)

    assert (
        assess(earning(points=1), RiskFigures(member_points_today=499_999), [limit]).action
        is RiskAction.ALLOW
    )
    assert (
        assess(earning(points=2), RiskFigures(member_points_today=499_999), [limit]).action is RiskAction.HOLD
    )


def test_an_amount_far_above_the_members_own_average_with_enough_history() -> None:
    limit = rule(RuleKind.ABOVE_OWN_HISTORY, 50, min_history=5)
    history = RiskFigures(history_count=5, history_minor=50_000)  # average ticket 10,000

    at = assess(earning(500_000), history, [limit])  # exactly 50x
    over = assess(earning(500_001), history, [limit])
    too_little_history = assess(earning(10_000_000), replace(history, history_count=4), [limit])
    no_history = assess(earning(10_000_000), RiskFigures(), [replace(limit, min_history=0)])

    assert at.action is RiskAction.ALLOW
    assert over.action is RiskAction.HOLD
    assert "average 10000" in over.outcomes[0].reason
    assert too_little_history.action is RiskAction.ALLOW
    assert no_history.action is RiskAction.ALLOW  # an average needs at least one purchase


def test_earn_and_burn_refuses_a_redemption_after_an_earning_above_the_limit() -> None:
    limit = rule(RuleKind.EARN_AND_BURN, 1_000_000, RiskAction.REFUSE, window_minutes=30)
    redeem = Movement(MovementKind.REDEEM, 7, 100, AT)

    at = assess(redeem, RiskFigures(largest_earning={30: 1_000_000}), [limit])
    over = assess(redeem, RiskFigures(largest_earning={30: 1_000_001}), [limit])
    on_an_earning = assess(earning(), RiskFigures(largest_earning={30: 9_000_000}), [limit])

    assert at.action is RiskAction.ALLOW
    assert over.action is RiskAction.REFUSE
    assert on_an_earning.action is RiskAction.ALLOW  # the rule looks at redemptions only


def test_fan_in_counts_this_sender_as_one_more() -> None:
    limit = rule(RuleKind.TRANSFER_FAN_IN, 10, RiskAction.REFUSE)
    received = Movement(MovementKind.TRANSFER, 7, 50, AT)

    assert assess(received, RiskFigures(other_senders_today=9), [limit]).action is RiskAction.ALLOW
    assert assess(received, RiskFigures(other_senders_today=10), [limit]).action is RiskAction.REFUSE


def test_the_most_severe_action_wins_and_every_rule_that_fired_is_recorded() -> None:
    rules = [
        RiskRule(1, RuleKind.PURCHASE_AMOUNT, RiskAction.HOLD, 100, currency="CNY"),
        RiskRule(2, RuleKind.MEMBER_DAILY_POINTS, RiskAction.REFUSE, 50),
        RiskRule(3, RuleKind.MEMBER_VELOCITY, RiskAction.ALLOW, 0, window_minutes=10),  # off
    ]

    decision = assess(earning(10_000, points=100), RiskFigures(), rules)

    assert decision.action is RiskAction.REFUSE
    assert [(o.rule_id, o.action) for o in decision.outcomes] == [
        (1, RiskAction.HOLD),
        (2, RiskAction.REFUSE),
    ]


def test_a_hold_on_a_spending_movement_refuses_and_cannot_be_set() -> None:
    burn = rule(RuleKind.EARN_AND_BURN, 0, RiskAction.HOLD, window_minutes=30)

    decision = assess(Movement(MovementKind.REDEEM, 7, 1, AT), RiskFigures(largest_earning={30: 1}), [burn])

    assert decision.action is RiskAction.REFUSE
    with pytest.raises(Validation) as refused:
        validate_rule(burn)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, ("action",))


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"limit": -1}, ("limit",)),
        ({"window_minutes": 0}, ("windowMinutes",)),
        ({"window_minutes": 24 * 60 + 1}, ("windowMinutes",)),
    ],
)
def test_rule_settings_out_of_range_are_refused(changed: dict[str, int], field: tuple[str, ...]) -> None:
    velocity = rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=10)

    with pytest.raises(Validation) as refused:
        validate_rule(replace(velocity, **changed))  # type: ignore[arg-type]  # the names are fields

    assert refused.value.field == field


def test_the_default_rules_are_valid_and_hold_the_cases_seen() -> None:
    rules = default_rules()
    for r in rules:
        validate_rule(r)
    usd_21_million = earning(2_150_000_000 - 1, points=216_666_666, currency="USD")
    fifteenth_cny_purchase = earning(9_999_999, points=99_999)

    assert assess(usd_21_million, RiskFigures(), rules).action is RiskAction.HOLD
    assert (
        assess(
            fifteenth_cny_purchase,
            RiskFigures(purchases_in_window={10: 14}, member_points_today=1_399_986),
            rules,
        )
    ).action is RiskAction.HOLD
    assert assess(
        earning(), RiskFigures(purchases_in_window={10: 3}, member_points_today=300), rules
    ).action is (RiskAction.ALLOW)


def test_an_earning_claims_the_counters_its_rules_read_in_key_order() -> None:
    rules = default_rules()
    move = earning(12_345, points=123)

    claims = earning_claims(move, rules)

    day = day_number(AT)
    assert [(c.key, c.count, c.points, c.amount_minor) for c in claims] == sorted(
        [
            (CounterKey(CounterScope.MERCHANT_DAY, 3, day), 1, 123, 0),
            (CounterKey(CounterScope.MEMBER_DAY, 7, day), 1, 123, 0),
            (CounterKey(CounterScope.MEMBER_WINDOW, 7, window_number(AT, 10), "10"), 1, 123, 0),
            (CounterKey(CounterScope.MEMBER_HISTORY, 7, 0, "CNY"), 1, 123, 12_345),
        ],
        key=lambda claim: claim[0],
    )
    assert earning_claims(move, [replace(r, action=RiskAction.ALLOW) for r in rules]) == []


def test_figures_come_from_the_counters_as_they_stood_before() -> None:
    move = earning(12_345, points=123)
    day = day_number(AT)
    before = {
        CounterKey(CounterScope.MERCHANT_DAY, 3, day): Counted(40, 4_000, 0),
        CounterKey(CounterScope.MEMBER_DAY, 7, day): Counted(2, 200, 0),
        CounterKey(CounterScope.MEMBER_WINDOW, 7, window_number(AT, 10), "10"): Counted(2, 200, 0),
        CounterKey(CounterScope.MEMBER_HISTORY, 7, 0, "CNY"): Counted(9, 900, 90_000),
    }

    figures = earning_figures(move, before)

    assert figures == RiskFigures(
        merchant_points_today=4_000,
        member_points_today=200,
        purchases_in_window={10: 2},
        history_count=9,
        history_minor=90_000,
    )


def test_windows_and_days_are_fixed_and_utc() -> None:
    midnight = datetime(2026, 11, 27, tzinfo=UTC)

    assert day_number(midnight) == day_number(midnight + timedelta(hours=23, minutes=59)) == 20_784
    assert day_number(midnight - timedelta(microseconds=1)) == 20_783
    assert window_number(midnight + timedelta(minutes=9, seconds=59), 10) == window_number(midnight, 10)
    assert window_number(midnight + timedelta(minutes=10), 10) == window_number(midnight, 10) + 1
