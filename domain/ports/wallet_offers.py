"""What the wallet's offer list reads of a member's purchases: its typical basket and its firsts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from domain.offers import Bought, Spend


class OfferWalletReader(Protocol):
    async def spending(self, member_id: int, since: datetime) -> list[Spend]:
        """The member's purchases since then, totalled by merchant category and currency."""
        ...

    async def recent_spending(self, latest: int) -> list[Spend]:
        """The programme's latest `latest` purchases, totalled by merchant category and currency."""
        ...

    async def bought(
        self, member_id: int, merchant_ids: Collection[int], partner_ids: Collection[int]
    ) -> Bought:
        """Whether the member ever bought, and at which of these merchants and partner brands."""
        ...
