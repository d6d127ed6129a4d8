"""Guard rules on an offer: pause it when its spending would use up its budget before its window ends
(burn rate), or when its return after enough participants is below a floor (ROI). Pure: the `guards`
job (domain/services/guards.py) reads the figures, asks these rules, and pauses through the offers'
own use case. A guard fires once; setting the offer's guards again arms them anew.

Burn rate, exactly: with the window [start, end), now inside it, `used` of a `budget` (points, or
money in minor units; each budget the offer has is judged alone) and durations in whole microseconds,
the rate so far is used / (now - start), so at the end of the window the offer will have spent
    projected = used * (end - start) / (now - start)
and the guard fires when projected > budget * (100 + tolerance_percent) / 100, compared in integers as
    used * (end - start) * 100 > budget * (now - start) * (100 + tolerance_percent).
At that rate the budget runs out at start + budget * (now - start) / used (the reason says when).
Before `min_used_percent` of the budget is used it gives no verdict, so that the first purchases after
the window opens (a huge rate over a few seconds) cannot pause an offer. The rate is over calendar
time: an offer that runs only some hours or days spends at the same average over its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from domain.errors import Validation
from domain.offers.model import Offer, OfferStatus, Usage

MAX_TOLERANCE_PERCENT = 1000
# ROI floors, in percent: below -100% the offer's buyers spend less than the holdout's; 1,000 times the
# cost is already more than any offer returns.
MIN_ROI_PERCENT = -1000
MAX_ROI_PERCENT = 100_000


class GuardKind(StrEnum):
    BURN_RATE = "BURN_RATE"  # pause when the budget would run out before the window ends
    ROI = "ROI"  # pause when the return after enough participants is below a floor


@dataclass(frozen=True, slots=True)
class OfferGuard:
    """One guard on one offer (at most one of each kind). The settings of the other kind are unused."""

    offer_id: int
    kind: GuardKind
    tolerance_percent: int = 0  # BURN_RATE: the projection may exceed the budget by this much
    min_used_percent: int = 5  # BURN_RATE: no verdict before this share of the budget is used
    min_participants: int = 0  # ROI: no verdict before this many members took part
    min_roi_percent: int = 0  # ROI: pause when the return is below this, in percent (0: break even)
    id: int = 0
    fired_at: datetime | None = None
    fired_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RoiReading:
    """The campaign report's figures an ROI guard needs, over the offer's window up to now: members
    that took part, and ROI = (incremental gross margin - cost) / cost (None without cost or holdout)."""

    participants: int
    roi: Fraction | None


@dataclass(frozen=True, slots=True)
class Trip:
    """A guard's verdict that the offer must pause, and why (kept with the guard and audited)."""

    kind: GuardKind
    reason: str


def _microseconds(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def burn_rate_trip(guard: OfferGuard, offer: Offer, usage: Usage, now: datetime) -> Trip | None:
    """The burn-rate verdict (see the module docstring); None while the window is not open."""
    window = offer.window
    if not window.starts_at < now < window.ends_at:
        return None
    elapsed = _microseconds(now - window.starts_at)
    total = _microseconds(window.ends_at - window.starts_at)
    limits = offer.limits
    budgets = (
        (limits.budget_points, usage.points, "points"),
        (
            None if limits.budget_money is None else limits.budget_money.amount_minor,
            usage.money_minor,
            "" if limits.budget_money is None else f"{limits.budget_money.currency} minor units",
        ),
    )
    for budget, used, unit in budgets:
        if budget is None or budget <= 0 or used * 100 < budget * guard.min_used_percent:
            continue
        if used * total * 100 > budget * elapsed * (100 + guard.tolerance_percent):
            runs_out = window.starts_at + timedelta(microseconds=budget * elapsed // used)
            return Trip(
                GuardKind.BURN_RATE,
                f"{used:,} of a budget of {budget:,} {unit} spent in {elapsed * 100 // total}% of the "
                f"window: at this rate it runs out at {runs_out.isoformat()}, before the window ends at "
                f"{window.ends_at.isoformat()}",
            )
    return None


def roi_trip(guard: OfferGuard, reading: RoiReading | None) -> Trip | None:
    """The ROI verdict: fires when at least `min_participants` took part and ROI * 100 < min_roi_percent.
    No reading, or no ROI (nothing spent yet, no holdout), gives no verdict."""
    if reading is None or reading.roi is None or reading.participants < guard.min_participants:
        return None
    if reading.roi * 100 >= guard.min_roi_percent:
        return None
    return Trip(
        GuardKind.ROI,
        f"ROI {float(reading.roi * 100):.1f}% after {reading.participants:,} participants, below the "
        f"floor of {guard.min_roi_percent}%",
    )


def trip(
    guard: OfferGuard, offer: Offer, usage: Usage, reading: RoiReading | None, now: datetime
) -> Trip | None:
    """Whether this armed guard pauses this offer now. Only a live (ACTIVE) offer is paused, and a guard
    that has fired stays quiet until it is set again."""
    if guard.fired_at is not None or offer.status is not OfferStatus.ACTIVE:
        return None
    if guard.kind is GuardKind.BURN_RATE:
        return burn_rate_trip(guard, offer, usage, now)
    return roi_trip(guard, reading)


def checked_guards(offer: Offer, guards: Sequence[OfferGuard]) -> tuple[OfferGuard, ...]:
    """The guards to set on the offer, checked: one of each kind, settings in range, and a budget for
    a burn-rate guard to watch. Each comes back unfired, for this offer."""
    kinds = [guard.kind for guard in guards]
    if len(set(kinds)) != len(kinds):
        raise Validation("at most one guard of each kind", ("guards",))
    if offer.status is OfferStatus.ARCHIVED:
        raise Validation("an archived offer cannot be guarded", ("offerId",))
    for index, guard in enumerate(guards):
        where = ("guards", str(index))
        if guard.kind is GuardKind.BURN_RATE:
            if offer.limits.budget_points is None and offer.limits.budget_money is None:
                raise Validation("a burn-rate guard needs an offer with a budget", (*where, "kind"))
            if not 0 <= guard.tolerance_percent <= MAX_TOLERANCE_PERCENT:
                raise Validation(
                    f"tolerancePercent must be between 0 and {MAX_TOLERANCE_PERCENT}",
                    (*where, "tolerancePercent"),
                )
            if not 0 <= guard.min_used_percent <= 100:
                raise Validation("minUsedPercent must be between 0 and 100", (*where, "minUsedPercent"))
        else:
            if guard.min_participants < 0:
                raise Validation("minParticipants cannot be negative", (*where, "minParticipants"))
            if not MIN_ROI_PERCENT <= guard.min_roi_percent <= MAX_ROI_PERCENT:
                raise Validation(
                    f"minRoiPercent must be between {MIN_ROI_PERCENT} and {MAX_ROI_PERCENT}",
                    (*where, "minRoiPercent"),
                )
    return tuple(
        OfferGuard(
            offer_id=offer.id,
            kind=guard.kind,
            tolerance_percent=guard.tolerance_percent,
            min_used_percent=guard.min_used_percent,
            min_participants=guard.min_participants,
            min_roi_percent=guard.min_roi_percent,
        )
        for guard in guards
    )
