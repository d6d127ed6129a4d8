"""Risk control: the rules every points movement is assessed against, inside its own transaction.

A rule looks at one figure of the movement (its amount, or a count or sum the store keeps for the
member or the merchant) and fires when that figure, counting the movement itself, is strictly above
the rule's limit: exactly at the limit is allowed. A rule that fires allows, holds for review or
refuses; a rule whose action is ALLOW is switched off and needs no figures.

Earning movements (a purchase) may be held: the points go to the member's review balance until an
admin approves or rejects them. Spending movements (a redemption, a transfer) are never held: a
rule on them allows or refuses (a hold of points that leave the member would have nothing to hold).

The store keeps the figures as counters: per merchant per UTC day, per member per UTC day, per
member per window (fixed windows aligned on the epoch), per member and currency for its history.
`earning_claims` names the counters an earning needs and what it adds to them; the store adds it
under the counter rows' locks and returns the figures as they stood before, so two racing purchases
see each other (see persistence/repositories/risk.py).

Invariants, for `d = assess(movement, figures, rules)`:
- `d.action` is the most severe action among `d.outcomes`, ALLOW when there are none;
- every outcome names a rule that applies to the movement's kind, is switched on, and whose figure
  (`outcome.figure`) is above its limit (`outcome.limit`); every such rule has an outcome;
- HOLD never comes out for a spending movement;
- the arithmetic is on integers (minor units, points, counts): no rounding anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.actors import Actor
from domain.audit import AuditEvent
from domain.errors import DomainError, ErrorCode, Validation
from domain.money import MAX_INT, Money


class RiskAction(StrEnum):
    ALLOW = "ALLOW"  # the rule is off
    HOLD = "HOLD"  # accepted into the member's review balance until an admin decides
    REFUSE = "REFUSE"  # nothing changes

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {RiskAction.ALLOW: 0, RiskAction.HOLD: 1, RiskAction.REFUSE: 2}


class MovementKind(StrEnum):
    EARN = "EARN"  # a purchase earns points
    REDEEM = "REDEEM"  # points spent on a reward or held at a POS
    TRANSFER = "TRANSFER"  # points one member gives another (assessed for the receiver)

    @property
    def holdable(self) -> bool:
        return self is MovementKind.EARN


class RuleKind(StrEnum):
    PURCHASE_AMOUNT = "PURCHASE_AMOUNT"  # one purchase's amount in `currency`, minor units
    MERCHANT_DAILY_POINTS = "MERCHANT_DAILY_POINTS"  # points a merchant's purchases issued today
    MEMBER_VELOCITY = "MEMBER_VELOCITY"  # a member's purchases in the current window
    MEMBER_DAILY_POINTS = "MEMBER_DAILY_POINTS"  # points a member's purchases earned today
    ABOVE_OWN_HISTORY = "ABOVE_OWN_HISTORY"  # an amount above `limit` x the member's average ticket
    EARN_AND_BURN = "EARN_AND_BURN"  # a redemption within the window after an earning above `limit`
    TRANSFER_FAN_IN = "TRANSFER_FAN_IN"  # distinct members who gave the receiver points today

    @property
    def movement(self) -> MovementKind:
        if self is RuleKind.EARN_AND_BURN:
            return MovementKind.REDEEM
        if self is RuleKind.TRANSFER_FAN_IN:
            return MovementKind.TRANSFER
        return MovementKind.EARN

    @property
    def windowed(self) -> bool:
        return self in (RuleKind.MEMBER_VELOCITY, RuleKind.EARN_AND_BURN)


@dataclass(frozen=True, slots=True)
class RiskRule:
    id: int
    kind: RuleKind
    action: RiskAction
    limit: int
    window_minutes: int = 0  # MEMBER_VELOCITY, EARN_AND_BURN
    currency: str | None = None  # PURCHASE_AMOUNT (required), ABOVE_OWN_HISTORY (None: any)
    min_history: int = 0  # ABOVE_OWN_HISTORY: purchases in the currency before the rule applies
    description: str = ""

    @property
    def on(self) -> bool:
        return self.action is not RiskAction.ALLOW


# The longest window a rule may look back on: a day's worth of fixed windows keeps counters few.
MAX_WINDOW_MINUTES = 24 * 60


def validate_rule(rule: RiskRule) -> None:
    """Refuse settings a rule cannot work with, naming the input field."""
    if not 0 <= rule.limit <= MAX_INT:
        raise Validation(f"limit must be between 0 and {MAX_INT}", ("limit",))
    if rule.action is RiskAction.HOLD and not rule.kind.movement.holdable:
        raise Validation("a rule on spending points can only allow or refuse", ("action",))
    if rule.kind.windowed and not 1 <= rule.window_minutes <= MAX_WINDOW_MINUTES:
        raise Validation(f"windowMinutes must be between 1 and {MAX_WINDOW_MINUTES}", ("windowMinutes",))
    if rule.kind is RuleKind.PURCHASE_AMOUNT and rule.currency is None:
        raise Validation("a purchase amount limit names its currency", ("currency",))
    if rule.kind is RuleKind.ABOVE_OWN_HISTORY and rule.limit < 1:
        raise Validation("the multiple of the average ticket must be at least 1", ("limit",))
    if not 0 <= rule.min_history <= MAX_INT:
        raise Validation(f"minHistory must be between 0 and {MAX_INT}", ("minHistory",))


def default_rules() -> tuple[RiskRule, ...]:
    """The rules a new programme starts with (the migration writes the same rows)."""
    return tuple(RiskRule(i, *settings) for i, settings in enumerate(DEFAULT_RULES, start=1))


# kind, action, limit, window minutes, currency, min history, description. Chosen to stop the cases
# that were seen (USD 21.5 million purchases minting 1.95 billion points; 15 purchases of CNY
# 99,999.99 in a third of a second) while leaving ordinary shopping alone.
DEFAULT_RULES: tuple[tuple[RuleKind, RiskAction, int, int, str | None, int, str], ...] = (
    (RuleKind.PURCHASE_AMOUNT, RiskAction.HOLD, 5_000_000, 0, "USD", 0, "A purchase above USD 50,000"),
    (RuleKind.PURCHASE_AMOUNT, RiskAction.HOLD, 30_000_000, 0, "CNY", 0, "A purchase above CNY 300,000"),
    (RuleKind.PURCHASE_AMOUNT, RiskAction.HOLD, 40_000_000, 0, "HKD", 0, "A purchase above HKD 400,000"),
    (RuleKind.MERCHANT_DAILY_POINTS, RiskAction.HOLD, 50_000_000, 0, None, 0, "A merchant's points today"),
    (RuleKind.MEMBER_VELOCITY, RiskAction.HOLD, 10, 10, None, 0, "Over 10 purchases in 10 minutes"),
    (RuleKind.MEMBER_DAILY_POINTS, RiskAction.HOLD, 500_000, 0, None, 0, "A member's points today"),
    (RuleKind.ABOVE_OWN_HISTORY, RiskAction.HOLD, 50, 0, None, 5, "Over 50x the member's average ticket"),
    (RuleKind.EARN_AND_BURN, RiskAction.REFUSE, 1_000_000, 30, None, 0, "Redeeming soon after a big earning"),
    (RuleKind.TRANSFER_FAN_IN, RiskAction.REFUSE, 10, 0, None, 0, "Points from over 10 members a day"),
)


@dataclass(frozen=True, slots=True)
class Movement:
    kind: MovementKind
    member_id: int  # the member whose points move (the receiver, for a transfer)
    points: int
    at: datetime
    amount: Money | None = None  # a purchase's amount
    merchant_id: int | None = None


@dataclass(frozen=True, slots=True)
class RiskFigures:
    """What the store counted before the movement (the movement itself is added by `assess`)."""

    merchant_points_today: int = 0
    member_points_today: int = 0
    purchases_in_window: Mapping[int, int] = field(default_factory=dict)  # window minutes -> count
    history_count: int = 0  # the member's earlier purchases in the movement's currency
    history_minor: int = 0  # and their amounts summed
    largest_earning: Mapping[int, int] = field(default_factory=dict)  # window minutes -> points
    other_senders_today: int = 0  # distinct members other than this sender who gave today


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule that fired, with the figure behind it: recorded with the decision."""

    rule_id: int
    kind: RuleKind
    action: RiskAction
    figure: int
    limit: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind.value,
            "action": self.action.value,
            "figure": self.figure,
            "limit": self.limit,
            "reason": self.reason,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> RuleOutcome:
        return RuleOutcome(
            int(data["rule_id"]),
            RuleKind(data["kind"]),
            RiskAction(data["action"]),
            int(data["figure"]),
            int(data["limit"]),
            str(data["reason"]),
        )


@dataclass(frozen=True, slots=True)
class RiskDecision:
    action: RiskAction
    outcomes: tuple[RuleOutcome, ...] = ()

    @property
    def held(self) -> bool:
        return self.action is RiskAction.HOLD

    @property
    def refused(self) -> bool:
        return self.action is RiskAction.REFUSE

    def summary(self) -> str:
        return "; ".join(o.reason for o in self.outcomes if o.action is self.action)


ALLOWED = RiskDecision(RiskAction.ALLOW)


def assess(movement: Movement, figures: RiskFigures, rules: Sequence[RiskRule]) -> RiskDecision:
    """Which of `rules` fire for the movement, given the figures before it, and what comes of it."""
    outcomes = []
    action = RiskAction.ALLOW
    for rule in rules:
        if not rule.on or rule.kind.movement is not movement.kind:
            continue
        fired = _CHECKS[rule.kind](rule, movement, figures)
        if fired is None:
            continue
        figure, reason = fired
        rule_action = rule.action
        if rule_action is RiskAction.HOLD and not movement.kind.holdable:
            rule_action = RiskAction.REFUSE  # validate_rule keeps this from being set
        outcomes.append(RuleOutcome(rule.id, rule.kind, rule_action, figure, rule.limit, reason))
        if rule_action.severity > action.severity:
            action = rule_action
    return RiskDecision(action, tuple(outcomes)) if outcomes else ALLOWED


_Fired = tuple[int, str] | None


def _purchase_amount(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    if m.amount is None or m.amount.currency != rule.currency or m.amount.amount_minor <= rule.limit:
        return None
    return (
        m.amount.amount_minor,
        f"amount {m.amount.amount_minor} {rule.currency} minor units over {rule.limit}",
    )


def _merchant_daily_points(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    after = f.merchant_points_today + m.points
    if after <= rule.limit:
        return None
    return after, f"the merchant's points today would be {after}, over {rule.limit}"


def _member_velocity(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    after = f.purchases_in_window.get(rule.window_minutes, 0) + 1
    if after <= rule.limit:
        return None
    return after, f"purchase {after} in {rule.window_minutes} minutes, over {rule.limit}"


def _member_daily_points(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    after = f.member_points_today + m.points
    if after <= rule.limit:
        return None
    return after, f"the member's points today would be {after}, over {rule.limit}"


def _above_own_history(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    if m.amount is None or rule.currency not in (None, m.amount.currency):
        return None
    if f.history_count < max(rule.min_history, 1):
        return None
    # amount > limit x (history_minor / history_count), without division
    if m.amount.amount_minor * f.history_count <= rule.limit * f.history_minor:
        return None
    average = f.history_minor // f.history_count
    return (
        m.amount.amount_minor,
        f"amount {m.amount.amount_minor} over {rule.limit}x the member's average {average}"
        f" ({f.history_count} purchases in {m.amount.currency})",
    )


def _earn_and_burn(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    earned = f.largest_earning.get(rule.window_minutes, 0)
    if earned <= rule.limit:
        return None
    return (
        earned,
        f"an earning of {earned} points in the last {rule.window_minutes} minutes, over {rule.limit}",
    )


def _transfer_fan_in(rule: RiskRule, m: Movement, f: RiskFigures) -> _Fired:
    senders = f.other_senders_today + 1
    if senders <= rule.limit:
        return None
    return senders, f"points from {senders} members today, over {rule.limit}"


_CHECKS = {
    RuleKind.PURCHASE_AMOUNT: _purchase_amount,
    RuleKind.MERCHANT_DAILY_POINTS: _merchant_daily_points,
    RuleKind.MEMBER_VELOCITY: _member_velocity,
    RuleKind.MEMBER_DAILY_POINTS: _member_daily_points,
    RuleKind.ABOVE_OWN_HISTORY: _above_own_history,
    RuleKind.EARN_AND_BURN: _earn_and_burn,
    RuleKind.TRANSFER_FAN_IN: _transfer_fan_in,
}


# Counters: what an earning adds, and where.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_number(at: datetime) -> int:
    """The UTC day `at` falls in, counted from the epoch."""
    return (at - _EPOCH).days


def window_number(at: datetime, minutes: int) -> int:
    """The fixed window of `minutes` that `at` falls in, counted from the epoch."""
    return int((at - _EPOCH) // timedelta(minutes=minutes))


def day_start(at: datetime) -> datetime:
    return _EPOCH + timedelta(days=day_number(at))


class CounterScope(StrEnum):
    MERCHANT_DAY = "MERCHANT_DAY"  # owner: merchant; period: UTC day
    MEMBER_DAY = "MEMBER_DAY"  # owner: member; period: UTC day
    MEMBER_WINDOW = "MEMBER_WINDOW"  # owner: member; period: window number; `minutes` the window
    MEMBER_HISTORY = "MEMBER_HISTORY"  # owner: member; period 0; one per currency


@dataclass(frozen=True, slots=True, order=True)
class CounterKey:
    scope: CounterScope
    owner_id: int
    period: int
    detail: str = ""  # the window's minutes, or the history's currency


@dataclass(frozen=True, slots=True)
class CounterClaim:
    """Add `count` and `points` and `amount_minor` to the counter at `key`."""

    key: CounterKey
    count: int
    points: int
    amount_minor: int = 0


@dataclass(frozen=True, slots=True)
class Counted:
    """A counter as it stood before the claim."""

    count: int = 0
    points: int = 0
    amount_minor: int = 0


def earning_claims(movement: Movement, rules: Sequence[RiskRule]) -> list[CounterClaim]:
    """The counters the switched-on earning rules read, each with what this earning adds; sorted,
    so that every transaction takes the counter rows in one order."""
    kinds = {r.kind for r in rules if r.on}
    day = day_number(movement.at)
    claims = []
    if RuleKind.MERCHANT_DAILY_POINTS in kinds and movement.merchant_id is not None:
        key = CounterKey(CounterScope.MERCHANT_DAY, movement.merchant_id, day)
        claims.append(CounterClaim(key, 1, movement.points))
    if RuleKind.MEMBER_DAILY_POINTS in kinds:
        claims.append(
            CounterClaim(CounterKey(CounterScope.MEMBER_DAY, movement.member_id, day), 1, movement.points)
        )
    for minutes in sorted({r.window_minutes for r in rules if r.on and r.kind is RuleKind.MEMBER_VELOCITY}):
        key = CounterKey(
            CounterScope.MEMBER_WINDOW, movement.member_id, window_number(movement.at, minutes), str(minutes)
        )
        claims.append(CounterClaim(key, 1, movement.points))
    if RuleKind.ABOVE_OWN_HISTORY in kinds and movement.amount is not None:
        key = CounterKey(CounterScope.MEMBER_HISTORY, movement.member_id, 0, movement.amount.currency)
        claims.append(CounterClaim(key, 1, movement.points, movement.amount.amount_minor))
    return sorted(claims, key=lambda c: c.key)


def earning_figures(movement: Movement, before: Mapping[CounterKey, Counted]) -> RiskFigures:
    """The figures an earning's rules read, from its claimed counters as they stood before it."""
    day = day_number(movement.at)
    none = Counted()
    windows = {
        int(key.detail): counted.count
        for key, counted in before.items()
        if key.scope is CounterScope.MEMBER_WINDOW
    }
    history = none
    if movement.amount is not None:
        history_key = CounterKey(CounterScope.MEMBER_HISTORY, movement.member_id, 0, movement.amount.currency)
        history = before.get(history_key, none)
    merchant = none
    if movement.merchant_id is not None:
        merchant = before.get(CounterKey(CounterScope.MERCHANT_DAY, movement.merchant_id, day), none)
    return RiskFigures(
        merchant_points_today=merchant.points,
        member_points_today=before.get(
            CounterKey(CounterScope.MEMBER_DAY, movement.member_id, day), none
        ).points,
        purchases_in_window=windows,
        history_count=history.count,
        history_minor=history.amount_minor,
    )


def burn_windows(rules: Sequence[RiskRule]) -> list[int]:
    """The windows (minutes) the switched-on earn-and-burn rules look back on."""
    return sorted({r.window_minutes for r in rules if r.on and r.kind is RuleKind.EARN_AND_BURN})


def fan_in_on(rules: Sequence[RiskRule]) -> bool:
    return any(r.on and r.kind is RuleKind.TRANSFER_FAN_IN for r in rules)


class RiskRefused(DomainError):
    """A risk rule refused the movement; nothing changed. The message names the rules and figures."""

    code = ErrorCode.RISK_REVIEW
    member_id: int | None = None  # whose movement it was, for the audit log; not part of the answer


def risk_decision_event(
    actor: Actor, action: str, member_id: int | None, facts: dict[str, object], at: datetime
) -> AuditEvent:
    """A risk decision for the audit log: a hold (`security.risk_hold`, with its review) or a refusal
    (`security.risk_refused`), with the rules and figures behind it."""
    return AuditEvent(
        actor.subject,
        action,
        "Member",
        member_id or 0,
        None,
        facts,
        actor.request_id,
        at,
        member_id=member_id,
    )


def refusal(
    decision: RiskDecision, field: tuple[str, ...] | None = None, member_id: int | None = None
) -> RiskRefused:
    refused = RiskRefused(f"refused by risk control: {decision.summary()}", field)
    refused.member_id = member_id
    return refused


# The review queue.


class ReviewStatus(StrEnum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class RiskReview:
    """A held earning: its points sit in the member's review balance until an admin decides."""

    id: int
    member_id: int
    purchase_id: int
    merchant_id: int
    points: int
    status: ReviewStatus
    outcomes: tuple[RuleOutcome, ...]
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
