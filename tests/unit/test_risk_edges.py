"""Risk control at its edges (domain/risk.py): each setting a rule refuses, with its message and
field, at its exact bounds; what a rule reads when the store counted nothing yet; how severities
combine; the outcome as stored and read back; the audit event and the refusal a decision makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.errors import ErrorCode, Validation
from domain.money import MAX_INT, Money
from domain.risk import (
    DEFAULT_RULES,
    MAX_WINDOW_MINUTES,
    Counted,
    CounterKey,
    CounterScope,
    Movement,
    MovementKind,
    RiskAction,
    RiskDecision,
    RiskFigures,
    RiskRule,
    RuleKind,
    RuleOutcome,
    assess,
    burn_windows,
    day_start,
    default_rules,
    earning_figures,
    fan_in_on,
    refusal,
    risk_decision_event,
    validate_rule,
    window_number,
)
from tests.unit.test_risk import AT, earning, rule

REDEMPTION = Movement(MovementKind.REDEEM, 7, 500, AT)


def refused(settings: RiskRule) -> tuple[str, tuple[str, ...] | None]:
    with pytest.raises(Validation) as error:
        validate_rule(settings)
    return error.value.message, error.value.field


# --- settings -------------------------------------------------------------------------------------


def test_a_limit_may_be_zero_or_the_largest_int_and_nothing_outside() -> None:
    validate_rule(rule(RuleKind.MEMBER_DAILY_POINTS, 0))
    validate_rule(rule(RuleKind.MEMBER_DAILY_POINTS, MAX_INT))
    assert refused(rule(RuleKind.MEMBER_DAILY_POINTS, MAX_INT + 1)) == (
        f"limit must be between 0 and {MAX_INT}",
        ("limit",),
    )
    assert refused(rule(RuleKind.MEMBER_DAILY_POINTS, -1)) == (
        f"limit must be between 0 and {MAX_INT}",
        ("limit",),
    )


def test_a_rule_on_spending_points_cannot_hold() -> None:
    assert refused(rule(RuleKind.EARN_AND_BURN, 10, RiskAction.HOLD, window_minutes=30)) == (
        "a rule on spending points can only allow or refuse",
        ("action",),
    )
    validate_rule(rule(RuleKind.EARN_AND_BURN, 10, RiskAction.REFUSE, window_minutes=30))


def test_a_window_is_one_minute_to_a_day() -> None:
    message = (f"windowMinutes must be between 1 and {MAX_WINDOW_MINUTES}", ("windowMinutes",))
    validate_rule(rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=1))
    validate_rule(rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=MAX_WINDOW_MINUTES))
    assert refused(rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=0)) == message
    assert refused(rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=MAX_WINDOW_MINUTES + 1)) == message
    # A rule without a window takes none.
    validate_rule(rule(RuleKind.MEMBER_DAILY_POINTS, 10, window_minutes=0))


def test_a_purchase_amount_limit_names_its_currency() -> None:
    assert refused(rule(RuleKind.PURCHASE_AMOUNT, 10)) == (
        "a purchase amount limit names its currency",
        ("currency",),
    )
    validate_rule(rule(RuleKind.PURCHASE_AMOUNT, 10, currency="CNY"))


def test_a_multiple_of_the_average_ticket_is_at_least_one() -> None:
    assert refused(rule(RuleKind.ABOVE_OWN_HISTORY, 0)) == (
        "the multiple of the average ticket must be at least 1",
        ("limit",),
    )
    validate_rule(rule(RuleKind.ABOVE_OWN_HISTORY, 1))
    validate_rule(rule(RuleKind.MEMBER_DAILY_POINTS, 0))  # other rules may have a limit of 0


def test_a_minimum_history_is_zero_to_the_largest_int() -> None:
    message = (f"minHistory must be between 0 and {MAX_INT}", ("minHistory",))
    validate_rule(rule(RuleKind.ABOVE_OWN_HISTORY, 5, min_history=MAX_INT))
    assert refused(rule(RuleKind.ABOVE_OWN_HISTORY, 5, min_history=MAX_INT + 1)) == message
    assert refused(rule(RuleKind.ABOVE_OWN_HISTORY, 5, min_history=-1)) == message


def test_the_default_rules_are_numbered_from_one_in_order() -> None:
    rules = default_rules()

    assert [r.id for r in rules] == list(range(1, len(DEFAULT_RULES) + 1))
    assert (rules[0].kind, rules[0].currency, rules[0].limit) == (RuleKind.PURCHASE_AMOUNT, "USD", 5_000_000)


# --- what a rule reads --------------------------------------------------------------------------------


def test_with_nothing_counted_a_limit_of_zero_still_lets_the_first_purchase_and_the_first_burn_through() -> (
    None
):
    velocity = rule(RuleKind.MEMBER_VELOCITY, 1, window_minutes=10)
    burn = rule(RuleKind.EARN_AND_BURN, 0, RiskAction.REFUSE, window_minutes=30)

    assert assess(earning(), RiskFigures(), [velocity]).action is RiskAction.ALLOW  # purchase 1 of 1
    assert assess(REDEMPTION, RiskFigures(), [burn]).action is RiskAction.ALLOW  # no earning: 0 points


def test_an_average_ticket_needs_at_least_one_earlier_purchase_whatever_the_minimum() -> None:
    history = rule(RuleKind.ABOVE_OWN_HISTORY, 2)  # min_history 0

    assert assess(earning(1_000_000), RiskFigures(), [history]).action is RiskAction.ALLOW
    one = RiskFigures(history_count=1, history_minor=100)
    decision = assess(earning(1_000_000), one, [history])
    assert decision.action is RiskAction.HOLD
    assert decision.outcomes[0].reason == (
        "amount 1000000 over 2x the member's average 100 (1 purchases in CNY)"
    )


def test_the_average_shown_is_rounded_down_to_a_minor_unit() -> None:
    figures = RiskFigures(history_count=3, history_minor=1_000)
    [outcome] = assess(earning(10_000), figures, [rule(RuleKind.ABOVE_OWN_HISTORY, 2)]).outcomes

    assert outcome.reason == "amount 10000 over 2x the member's average 333 (3 purchases in CNY)"


def test_an_average_ticket_rule_without_an_amount_does_not_apply() -> None:
    no_amount = Movement(MovementKind.EARN, 7, 100, AT)

    figures = RiskFigures(history_count=5, history_minor=5)
    assert assess(no_amount, figures, [rule(RuleKind.ABOVE_OWN_HISTORY, 1)]).action is RiskAction.ALLOW


def test_a_rule_for_another_kind_of_movement_or_switched_off_is_skipped_and_the_rest_still_checked() -> None:
    rules = [
        rule(RuleKind.EARN_AND_BURN, 0, RiskAction.REFUSE, window_minutes=30),  # a redemption rule
        RiskRule(2, RuleKind.MEMBER_DAILY_POINTS, RiskAction.ALLOW, 0),  # switched off
        RiskRule(3, RuleKind.MEMBER_DAILY_POINTS, RiskAction.HOLD, 99),
    ]

    decision = assess(earning(points=100), RiskFigures(), rules)

    assert decision.action is RiskAction.HOLD
    assert [o.rule_id for o in decision.outcomes] == [3]


def test_the_most_severe_action_wins_and_the_summary_names_only_its_rules() -> None:
    rules = [
        RiskRule(1, RuleKind.MEMBER_DAILY_POINTS, RiskAction.REFUSE, 10),
        RiskRule(2, RuleKind.MERCHANT_DAILY_POINTS, RiskAction.HOLD, 10),
        RiskRule(3, RuleKind.PURCHASE_AMOUNT, RiskAction.REFUSE, 10, currency="CNY"),
    ]

    decision = assess(earning(points=100), RiskFigures(), rules)

    assert decision.action is RiskAction.REFUSE
    assert [(o.rule_id, o.action) for o in decision.outcomes] == [
        (1, RiskAction.REFUSE),
        (2, RiskAction.HOLD),
        (3, RiskAction.REFUSE),
    ]
    assert decision.summary() == (
        "the member's points today would be 100, over 10; amount 10000 CNY minor units over 10"
    )


def test_a_hold_after_a_refusal_leaves_the_refusal() -> None:
    rules = [
        RiskRule(1, RuleKind.MEMBER_DAILY_POINTS, RiskAction.REFUSE, 10),
        RiskRule(2, RuleKind.MEMBER_DAILY_POINTS, RiskAction.HOLD, 10),
        RiskRule(3, RuleKind.MEMBER_DAILY_POINTS, RiskAction.REFUSE, 10),
    ]

    assert assess(earning(points=100), RiskFigures(), rules).action is RiskAction.REFUSE


def test_figures_read_as_zero_for_counters_the_store_has_not_started() -> None:
    assert earning_figures(earning(), {}) == RiskFigures()
    no_merchant = Movement(MovementKind.EARN, 7, 100, AT, Money(100, "CNY"))
    assert earning_figures(no_merchant, {}) == RiskFigures()
    counted = {CounterKey(CounterScope.MEMBER_DAY, 7, 20_000): Counted(1, 5)}
    assert earning_figures(Movement(MovementKind.EARN, 7, 1, AT), counted) == RiskFigures()


def test_the_switched_on_windows_and_fan_in_rules_are_the_ones_read() -> None:
    rules = [
        rule(RuleKind.EARN_AND_BURN, 10, RiskAction.REFUSE, window_minutes=30),
        rule(RuleKind.EARN_AND_BURN, 10, RiskAction.REFUSE, window_minutes=5),
        rule(RuleKind.EARN_AND_BURN, 10, RiskAction.ALLOW, window_minutes=60),
        rule(RuleKind.MEMBER_VELOCITY, 10, window_minutes=15),
    ]

    assert burn_windows(rules) == [5, 30]
    assert not fan_in_on(rules)
    assert not fan_in_on([rule(RuleKind.TRANSFER_FAN_IN, 10, RiskAction.ALLOW)])
    assert fan_in_on([*rules, rule(RuleKind.TRANSFER_FAN_IN, 10, RiskAction.REFUSE)])


def test_days_and_windows_are_counted_from_the_epoch() -> None:
    assert day_start(AT) == datetime(2026, 11, 27, tzinfo=UTC)
    # 12:34:56 is in the 10-minute window that starts at 12:30, the 75th of the day.
    start_of_day = window_number(datetime(2026, 11, 27, tzinfo=UTC), 10)
    assert window_number(AT, 10) == start_of_day + 75
    assert window_number(AT + timedelta(minutes=5, seconds=3), 10) == start_of_day + 75
    assert window_number(AT + timedelta(minutes=5, seconds=4), 10) == start_of_day + 76
    # Windows are aligned on the epoch both ways: five minutes before it is in window -1, not 0.
    assert window_number(datetime(1969, 12, 31, 23, 55, tzinfo=UTC), 10) == -1


# --- what a decision leaves behind -------------------------------------------------------------------


def test_an_outcome_is_stored_under_its_own_names_and_read_back_the_same() -> None:
    outcome = RuleOutcome(
        4, RuleKind.MEMBER_VELOCITY, RiskAction.HOLD, 11, 10, "purchase 11 in 10 minutes, over 10"
    )

    stored = outcome.to_json()

    assert stored == {
        "rule_id": 4,
        "kind": "MEMBER_VELOCITY",
        "action": "HOLD",
        "figure": 11,
        "limit": 10,
        "reason": "purchase 11 in 10 minutes, over 10",
    }
    assert RuleOutcome.from_json(stored) == outcome
    assert RuleOutcome.from_json({**stored, "rule_id": "4", "figure": "11", "limit": "10"}) == outcome


def test_a_refusal_names_the_rules_its_field_and_the_member() -> None:
    decision = RiskDecision(
        RiskAction.REFUSE,
        (
            RuleOutcome(
                1, RuleKind.TRANSFER_FAN_IN, RiskAction.REFUSE, 11, 10, "points from 11 members today"
            ),
        ),
    )

    error = refusal(decision, ("points",), member_id=7)

    assert (error.code, error.message, error.field, error.member_id) == (
        ErrorCode.RISK_REVIEW,
        "refused by risk control: points from 11 members today",
        ("points",),
        7,
    )


def test_a_risk_decision_is_audited_on_the_member_it_concerns() -> None:
    admin = Actor(Role.MERCHANT, "till-1", merchant_id=3, request_id="req-9")

    assert risk_decision_event(admin, "security.risk_hold", 7, {"review": 2}, AT) == AuditEvent(
        "till-1", "security.risk_hold", "Member", 7, None, {"review": 2}, "req-9", AT, member_id=7
    )
    assert risk_decision_event(admin, "security.risk_refused", None, {}, AT) == AuditEvent(
        "till-1", "security.risk_refused", "Member", 0, None, {}, "req-9", AT, member_id=None
    )
