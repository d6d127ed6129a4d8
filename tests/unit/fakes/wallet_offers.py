"""The wallet's offer reads over the fake tables, as `persistence/queries/wallet_offers.py` reads them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime

from domain.merchants import Merchant, MerchantCategory
from domain.offers import Bought, Spend
from domain.purchases import Purchase
from tests.unit.fakes.database import Repository


class FakeOfferWalletReader(Repository):
    async def spending(self, member_id: int, since: datetime) -> list[Spend]:
        return self._spends(
            p for p in self.t.purchases.values() if p.member_id == member_id and p.occurred_at >= since
        )

    async def recent_spending(self, latest: int) -> list[Spend]:
        kept = [p for p in self.t.purchases.values() if p.amount.amount_minor > p.refunded_minor]
        return self._spends(sorted(kept, key=lambda p: p.id, reverse=True)[:latest])

    async def bought(
        self, member_id: int, merchant_ids: Collection[int], partner_ids: Collection[int]
    ) -> Bought:
        mine = {p.merchant_id for p in self.t.purchases.values() if p.member_id == member_id}
        partners = {self.t.merchants[m].partner_id for m in mine}
        return Bought(
            bool(mine),
            frozenset(m for m in merchant_ids if m in mine),
            frozenset(p for p in partner_ids if p in partners),
        )

    async def merchants(self, ids: Collection[int]) -> list[Merchant]:
        return [self.t.merchants[i] for i in sorted(ids) if i in self.t.merchants]

    async def partner_names(self, ids: Collection[int]) -> dict[int, str]:
        return {i: self.t.partners[i].name for i in sorted(ids) if i in self.t.partners}

    def _spends(self, purchases: Iterable[Purchase]) -> list[Spend]:
        totals: dict[tuple[MerchantCategory, str], list[int]] = defaultdict(lambda: [0, 0])
        for p in purchases:
            kept = p.amount.amount_minor - p.refunded_minor
            if kept > 0:
                total = totals[(self.t.merchants[p.merchant_id].category, p.amount.currency)]
                total[0] += kept
                total[1] += 1
        return [Spend(cat, cur, t, n) for (cat, cur), (t, n) in sorted(totals.items())]
