"""Who pays for an award: the cost split between an offer's funders."""

from __future__ import annotations

from collections.abc import Sequence

from domain.offers.model import FundedCost, FundingShare


def split_cost(shares: Sequence[FundingShare], points: int, money_minor: int) -> tuple[FundedCost, ...]:
    """Each funder's part, by percentage, rounded down; what rounding leaves goes to the first share,
    so the parts always add up to the whole."""
    point_parts = [points * share.percent // 100 for share in shares]
    money_parts = [money_minor * share.percent // 100 for share in shares]
    point_parts[0] += points - sum(point_parts)
    money_parts[0] += money_minor - sum(money_parts)
    return tuple(
        FundedCost(s.kind, s.funder_id, p, m)
        for s, p, m in zip(shares, point_parts, money_parts, strict=True)
        if p or m
    )
