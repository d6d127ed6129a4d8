"""Who pays for an award: the cost split between an offer's funders."""

from __future__ import annotations

from collections.abc import Sequence

from domain.offers.model import FundedCost, FundingShare


def split_cost(shares: Sequence[FundingShare], points: int, money_minor: int) -> tuple[FundedCost, ...]:
    """Each funder's part, by percentage, rounded down; what rounding leaves goes to the first share,
    so the parts always add up to the whole."""
    parts = [[share, points * share.percent // 100, money_minor * share.percent // 100] for share in shares]
    parts[0][1] += points - sum(p[1] for p in parts)
    parts[0][2] += money_minor - sum(p[2] for p in parts)
    return tuple(FundedCost(s.kind, s.funder_id, p, m) for s, p, m in parts if p or m)
