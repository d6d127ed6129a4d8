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
