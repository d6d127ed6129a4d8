"""What the wallet's offer list reads beside the offers: the member's typical basket and its firsts,
and the merchants and partner brands the offers name (one read each, however many offers)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from domain.merchants import Merchant
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

    async def merchants(self, ids: Collection[int]) -> list[Merchant]:
        """Those of these merchants that exist, by id."""
        ...

    async def partner_names(self, ids: Collection[int]) -> dict[int, str]:
        """The names of those of these partner brands that exist, by id."""
        ...
