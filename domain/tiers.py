"""Membership tiers: which tier a member's recent activity reaches, what it needs for the next one,
and what an evaluation does when a member climbs or falls (會員等級).

A tier is reached with at least its `min_points` qualifying points OR at least its `min_spend` of
qualifying spend over the programme's rolling window (`tier_window_months`); a member reaches the
highest-ranked tier whose threshold it meets. A tier with no threshold at all is the entry tier:
everyone reaches it, and a member whose `tier_id` is None is in it. A ladder has at most one entry
tier, below every other tier, and all its spend thresholds are in one currency (the ladder's).

Qualifying points are the points the member's purchases in the window earned (offers and the tier's
multiplier included) less what refunds took back; qualifying spend is what those purchases paid in
the ladder's currency, less what was refunded.

Climbing is immediate (a purchase upgrades at once). Falling is slow: an evaluation that finds a
member below its tier starts a grace period of `tier_grace_days`; qualifying again before it ends
clears the grace; an evaluation after it ends moves the member down to the tier it reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.members import Member
from domain.money import Money
from domain.programme import add_months

MIN_MULTIPLIER = Decimal(1)
MAX_MULTIPLIER = Decimal(10)


@dataclass(frozen=True, slots=True)
class Tier:
    id: int
    code: str
    name: str
    rank: int  # higher is better; unique in the ladder
    min_points: int | None = None
    min_spend: Money | None = None
    earn_multiplier: Decimal = Decimal(1)  # base earn x this, rounded down as every earn
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_entry(self) -> bool:
        """No threshold: every member reaches it."""
        return self.min_points is None and self.min_spend is None

    def reached_by(self, q: Qualification) -> bool:
        if self.is_entry:
            return True
        if self.min_points is not None and q.points >= self.min_points:
            return True
        return self.min_spend is not None and q.spend_minor >= self.min_spend.amount_minor


@dataclass(frozen=True, slots=True)
class Qualification:
    """A member's qualifying figures over the window; spend in the ladder's currency, minor units."""

    points: int = 0
    spend_minor: int = 0


class TierChangeReason(StrEnum):
    UPGRADE = "UPGRADE"  # reached a higher tier: moved up at once
    DOWNGRADE = "DOWNGRADE"  # below its tier after the grace period: moved down to what it reaches
    GRACE = "GRACE"  # found below its tier: keeps it until the grace period ends
    REQUALIFIED = "REQUALIFIED"  # qualified again during the grace period: the grace is over


@dataclass(frozen=True, slots=True)
class TierDecision:
    """What an evaluation does to a member: its tier after, and its grace after (None: none)."""

    reason: TierChangeReason
    from_tier: Tier | None
    to_tier: Tier | None
    grace_until: datetime | None

    @property
    def moves(self) -> bool:
        return self.reason in (TierChangeReason.UPGRADE, TierChangeReason.DOWNGRADE)


@dataclass(frozen=True, slots=True)
class TierChange:
    """One line of a member's tier history, with the figures it was decided on."""

    id: int
    member_id: int
    from_tier_id: int | None
    to_tier_id: int | None
    reason: TierChangeReason
    qualification: Qualification
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TierProgress:
    """Where a member stands: its tier, the next one, and what it still needs to reach it."""

    tier: Tier | None
    next_tier: Tier | None
    qualification: Qualification
    currency: str | None  # the ladder's spend currency; None when no tier has a spend threshold
    points_needed: int | None  # None: the next tier has no points threshold (or there is none)
    spend_needed: Money | None
    window_start: datetime
    tier_since: datetime | None
    grace_until: datetime | None


def by_rank(tiers: Sequence[Tier]) -> list[Tier]:
    return sorted(tiers, key=lambda t: t.rank)


def entry_tier(tiers: Sequence[Tier]) -> Tier | None:
    """The tier every member is in until it reaches another; None when the lowest tier has a threshold."""
    lowest = min(tiers, key=lambda t: t.rank, default=None)
    return lowest if lowest is not None and lowest.is_entry else None


def ladder_currency(tiers: Sequence[Tier]) -> str | None:
    """The currency qualifying spend is counted in: the one every spend threshold uses."""
    return next((t.min_spend.currency for t in by_rank(tiers) if t.min_spend is not None), None)


def reached_tier(tiers: Sequence[Tier], q: Qualification) -> Tier | None:
    """The highest-ranked tier whose points or spend threshold `q` meets (the entry tier at least)."""
    return max((t for t in tiers if t.reached_by(q)), key=lambda t: t.rank, default=None)


def effective_tier(member: Member, tiers: Sequence[Tier]) -> Tier | None:
    """The member's tier: the one it holds, or the entry tier when it holds none (None: no tier)."""
    if member.tier_id is not None:
        held = next((t for t in tiers if t.id == member.tier_id), None)
        if held is not None:
            return held
    return entry_tier(tiers)


def effective_tier_id(member: Member, tiers: Sequence[Tier]) -> int | None:
    """The id to test tier conditions against (offers, rewards): `tier_id` None means the entry tier."""
    tier = effective_tier(member, tiers)
    return None if tier is None else tier.id


def earn_multiplier(tier: Tier | None) -> Decimal:
    return Decimal(1) if tier is None else tier.earn_multiplier


def next_tier(tiers: Sequence[Tier], current: Tier | None) -> Tier | None:
    """The lowest-ranked tier above `current` (above nothing: the lowest tier that is not the entry)."""
    floor = None if current is None else current.rank
    above = [t for t in tiers if (floor is None or t.rank > floor) and not t.is_entry]
    return min(above, key=lambda t: t.rank, default=None)


def is_top(tiers: Sequence[Tier], current: Tier | None) -> bool:
    return next_tier(tiers, current) is None


def window_start(now: datetime, months: int) -> datetime:
    """Where the rolling qualification window begins: the same day `months` earlier."""
    return add_months(now, -months)


def _above(a: Tier | None, b: Tier | None) -> bool:
    """Whether `a` ranks above `b` (no tier ranks below every tier)."""
    if a is None:
        return False
    return b is None or a.rank > b.rank


def decide(
    tiers: Sequence[Tier], member: Member, q: Qualification, now: datetime, grace_days: int
) -> TierDecision | None:
    """What an evaluation does to the member now; None when nothing changes.

    - reaches a higher tier: UPGRADE to it, and any grace ends;
    - reaches its tier again while in grace: REQUALIFIED, the grace ends;
    - below its tier, no grace yet: GRACE until now + grace_days (at once DOWNGRADE when that is 0);
    - below its tier and the grace has ended: DOWNGRADE to the tier it reaches.
    """
    current = effective_tier(member, tiers)
    reached = reached_tier(tiers, q)
    grace = member.tier_grace_until
    if _above(reached, current):
        return TierDecision(TierChangeReason.UPGRADE, current, reached, None)
    if not _above(current, reached):  # reaches its own tier
        if grace is not None:
            return TierDecision(TierChangeReason.REQUALIFIED, current, current, None)
        return None
    if grace is None and grace_days > 0:
        return TierDecision(TierChangeReason.GRACE, current, current, now + timedelta(days=grace_days))
    if grace is None or now >= grace:
        return TierDecision(TierChangeReason.DOWNGRADE, current, reached, None)
    return None  # in grace


def decide_on_purchase(tiers: Sequence[Tier], member: Member, q: Qualification) -> TierDecision | None:
    """After a purchase, only good news applies at once: an upgrade, or qualifying again in grace.
    Grace and downgrades wait for the evaluation job."""
    current = effective_tier(member, tiers)
    reached = reached_tier(tiers, q)
    if _above(reached, current):
        return TierDecision(TierChangeReason.UPGRADE, current, reached, None)
    if member.tier_grace_until is not None and not _above(current, reached):
        return TierDecision(TierChangeReason.REQUALIFIED, current, current, None)
    return None


def worth_checking_on_purchase(tiers: Sequence[Tier], member: Member) -> bool:
    """Whether a purchase could change the member's tier: not when it already holds the top tier
    without a grace period (or when there are no tiers at all)."""
    if not tiers:
        return False
    return member.tier_grace_until is not None or not is_top(tiers, effective_tier(member, tiers))


def progress(
    tiers: Sequence[Tier], member: Member, q: Qualification, window_from: datetime
) -> TierProgress | None:
    """The member's tier, the next one and what it still needs; None when there are no tiers."""
    if not tiers:
        return None
    current = effective_tier(member, tiers)
    upcoming = next_tier(tiers, current)
    currency = ladder_currency(tiers)
    points_needed = spend_needed = None
    if upcoming is not None:
        if upcoming.min_points is not None:
            points_needed = max(0, upcoming.min_points - q.points)
        if upcoming.min_spend is not None:
            spend_needed = Money(
                max(0, upcoming.min_spend.amount_minor - q.spend_minor), upcoming.min_spend.currency
            )
    return TierProgress(
        tier=current,
        next_tier=upcoming,
        qualification=q,
        currency=currency,
        points_needed=points_needed,
        spend_needed=spend_needed,
        window_start=window_from,
        tier_since=member.tier_since,
        grace_until=member.tier_grace_until,
    )


def ladder_refusal(tiers: Sequence[Tier], candidate: Tier) -> tuple[str, tuple[str, ...]] | None:
    """Why `candidate` (new, or replacing the tier with its id) cannot join the ladder: a message
    and the input field; None when it fits. Uniqueness of code and rank is checked by the caller."""
    others = [t for t in tiers if t.id != candidate.id]
    if candidate.is_entry:
        if any(t.is_entry for t in others):
            return "the ladder already has an entry tier (one without thresholds)", ("minPoints",)
        if any(t.rank < candidate.rank for t in others):
            return "a tier without thresholds is the entry tier: it must rank below every other", ("rank",)
    elif any(t.is_entry and t.rank > candidate.rank for t in others):
        return "a tier with thresholds must rank above the entry tier", ("rank",)
    if candidate.min_spend is not None:
        currency = ladder_currency(others)
        if currency is not None and currency != candidate.min_spend.currency:
            return f"every spend threshold of the ladder is in {currency}", ("minSpend", "currency")
    return None
