"""The reads a statement is made of: a funder's events over a period, and a merchant's figures."""

from __future__ import annotations

from typing import Protocol

from domain.offers import FunderKind
from domain.statements import Event, MerchantFigures, Period


class StatementReader(Protocol):
    async def funder_events(
        self, funder: tuple[FunderKind, int], within: Period, currency: str
    ) -> list[Event]:
        """Every event of the period for the funder (domain/statements.py), from one snapshot: awards
        given, refunds' and rejections' parts taken back, and bonuses outside a purchase (sign-up,
        referral, red packet), which have no purchase currency and are put in `currency`."""
        ...

    async def merchant_figures(self, merchant_id: int, within: Period) -> MerchantFigures: ...
