"""Points lots: earned points carry an expiry date; debits consume the soonest-expiring first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InsufficientPoints


@dataclass(frozen=True, slots=True)
class PointsLot:
    id: int
    member_id: int
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewLot:
    member_id: int
    points: int
    earned_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LotDraw:
    lot_id: int
    points: int


def draw_from_lots(lots: Sequence[PointsLot], points: int) -> list[LotDraw]:
    """Which lots a debit of `points` consumes: soonest expiry first, then oldest lot first."""
    draws: list[LotDraw] = []
    still_needed = points
    for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.id)):
        if still_needed == 0:
            break
        if lot.remaining <= 0:
            continue
        taken = min(lot.remaining, still_needed)
        draws.append(LotDraw(lot.id, taken))
        still_needed -= taken
    if still_needed:
        raise InsufficientPoints(f"{points} points requested, {points - still_needed} in lots", ("points",))
    return draws


@dataclass(frozen=True, slots=True)
class DrawnPoints:
    """Points one debit drew from one lot, with that lot's expiry date."""

    lot_id: int
    points: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReturnedPoints:
    """Points that come back to available in a new lot expiring when the lot they came from did."""

    points: int
    expires_at: datetime


def _soonest_first(drawn: Sequence[DrawnPoints]) -> list[DrawnPoints]:
    return sorted(drawn, key=lambda d: (d.expires_at, d.lot_id))


def given_back(drawn: Sequence[DrawnPoints], kept: int) -> list[ReturnedPoints]:
    """What a hold gives back when `kept` of the points it drew are spent (0 for a void or expiry).

    The spent part takes the soonest-expiring of the drawn points, as a direct redemption would
    have; the rest come back keeping their lots' expiry dates, one entry per distinct date, soonest
    first. A hold therefore never makes points live longer than they would have."""
    total = sum(d.points for d in drawn)
    if not 0 <= kept <= total:
        raise ValueError(f"cannot keep {kept} of {total} drawn points")
    by_expiry: dict[datetime, int] = {}
    to_skip = kept
    for d in _soonest_first(drawn):
        skipped = min(to_skip, d.points)
        to_skip -= skipped
        if d.points > skipped:
            by_expiry[d.expires_at] = by_expiry.get(d.expires_at, 0) + d.points - skipped
    return [ReturnedPoints(points, expires_at) for expires_at, points in sorted(by_expiry.items())]


def earliest_expiry(drawn: Sequence[DrawnPoints]) -> datetime | None:
    """The soonest expiry among the lots a debit drew from (where a cancelled redemption's points
    go back to: one lot, never living longer than any point it was paid with)."""
    return min((d.expires_at for d in drawn), default=None)
