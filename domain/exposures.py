"""Exposures: which offers a member was shown, counted per offer, member and UTC day.

A listing of recommended offers is one exposure of each offer listed. The counters are what an
evaluation of an offer reads (who was shown it, how often, first and last), not a log of requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class Exposure:
    """`listings` listings of the offer to the member on `day` (UTC), the first and last at these times."""

    offer_id: int
    member_id: int
    day: date
    listings: int
    first_at: datetime
    last_at: datetime

    @property
    def key(self) -> tuple[int, int, date]:
        return self.offer_id, self.member_id, self.day


def exposures_of(member_id: int, offer_ids: Sequence[int], at: datetime) -> list[Exposure]:
    """One listing of each offer (an offer named twice in one listing is one exposure)."""
    day = at.astimezone(UTC).date()
    return [Exposure(offer_id, member_id, day, 1, at, at) for offer_id in dict.fromkeys(offer_ids)]


def merged(exposures: Iterable[Exposure]) -> list[Exposure]:
    """One exposure per key, listings summed, first and last kept; in key order (so that concurrent
    writers take row locks in one order)."""
    by_key: dict[tuple[int, int, date], Exposure] = {}
    for e in exposures:
        seen = by_key.get(e.key)
        by_key[e.key] = e if seen is None else combined(seen, e)
    return [by_key[key] for key in sorted(by_key)]


def combined(a: Exposure, b: Exposure) -> Exposure:
    """Two counts of one key as one."""
    return Exposure(
        a.offer_id,
        a.member_id,
        a.day,
        a.listings + b.listings,
        min(a.first_at, b.first_at),
        max(a.last_at, b.last_at),
    )
