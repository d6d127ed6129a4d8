"""An offer's experiment (A/B/n with a holdout): the arms a member may be assigned to.

Shares are basis points of 10,000: the holdout takes `holdout_bp`, the variants split the rest in
proportion to their weights. A variant may change the offer's mechanic parameter (points,
multiplier, percent, amount) or its message (the name a wallet shows); what it leaves None stays
as the offer has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.money import Money

HOLDOUT = "holdout"  # the arm of members who are not offered it
SHARES = 10_000  # basis points: the whole population of the experiment
MAX_HOLDOUT_BP = 5_000
MAX_VARIANTS = 10


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    weight: int
    name: str | None = None  # the message: the offer's display name in this arm
    points: int | None = None  # BONUS_POINTS
    multiplier: Decimal | None = None  # POINTS_MULTIPLIER
    percent: Decimal | None = None  # PERCENT_DISCOUNT and the cashbacks
    amount: Money | None = None  # INSTANT_DISCOUNT and SPEND_AND_SAVE


@dataclass(frozen=True, slots=True)
class Experiment:
    """`id` is the offer version its arms were set at: new arms (keys, weights or holdout) start a
    new experiment with fresh assignments; changing only a variant's parameters or message, or the
    margin, keeps it. `margin_bp`: the gross margin rate on spend the campaign's ROI counts."""

    id: int
    started_at: datetime
    holdout_bp: int
    variants: tuple[Variant, ...]
    margin_bp: int = 0

    @property
    def arms(self) -> tuple[str, ...]:
        """Every arm's key, the variants' in their order, then the holdout."""
        return (*(v.key for v in self.variants), HOLDOUT)

    def shares(self) -> dict[str, float]:
        """Each arm's expected share of assigned members (for the sample-ratio check)."""
        total = sum(v.weight for v in self.variants)
        rest = (SHARES - self.holdout_bp) / SHARES
        found = {v.key: rest * v.weight / total for v in self.variants}
        found[HOLDOUT] = self.holdout_bp / SHARES
        return found

    def same_arms(self, other: Experiment) -> bool:
        """Whether `other` assigns members exactly as this one does."""
        return self.holdout_bp == other.holdout_bp and [(v.key, v.weight) for v in self.variants] == [
            (v.key, v.weight) for v in other.variants
        ]


@dataclass(frozen=True, slots=True)
class Assignment:
    """A member's arm in an offer's experiment, recorded the first time it is evaluated for it."""

    offer_id: int
    experiment_id: int
    member_id: int
    arm: str
