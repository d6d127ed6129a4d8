"""What a campaign report totals for an offer (read side; the engine never builds these)."""

from __future__ import annotations

from dataclasses import dataclass

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
