"""What a campaign report totals for an offer (read side; the engine never builds these)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.offers.model import FundedCost


@dataclass(frozen=True, slots=True)
class CampaignTotals:
    """What an offer has done: its awards, the spend behind them, and each funder's share."""

    offer_id: int
    purchases: int
    members: int
    points: int
    by_currency: tuple[tuple[str, int, int, int], ...]  # (currency, spend, discount, cashback) in minor units
    funding: tuple[FundedCost, ...]
    bonuses: tuple[BonusTotals, ...] = ()


class BonusReason(StrEnum):
    """Why an offer gave points outside a purchase (member_awards.reason; REFERRAL's bonus rides a
    purchase and is counted with it)."""

    SIGN_UP = "SIGN_UP"
    RED_PACKET = "RED_PACKET"
    TRIGGER = "TRIGGER"


@dataclass(frozen=True, slots=True)
class BonusTotals:
    """What an offer gave outside purchases for one reason: at enrolment, from a red-packet coupon, or
    by a trigger. Each is one use of the offer, so with the purchases they make up its
    usage. Referral bonuses are not here: they are part of the referee's purchase award."""

    reason: BonusReason
    awards: int
    members: int
    points: int
    funding: tuple[FundedCost, ...]  # each funder's points (bonuses carry no money)
