"""Purchases and the other movements booked for members: adjustments, transfers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.merchants import Channel, Merchant
from domain.money import Money
from domain.offers import (
    FirstPurchase,
)
from domain.profiles import ActivityChange
from domain.purchases import Adjustment, NewPurchase, Purchase, ReasonCode
from domain.risk import Counted, CounterClaim, CounterKey


class PurchaseRepository(Protocol):
    async def add(
        self,
        *,
        member_id: int,
        merchant_id: int,
        amount: Money,
        channel: Channel,
        occurred_at: datetime,
        reference: str | None,
        points_earned: int,
        points_pending: int,
        at: datetime,
        matures_at: datetime | None = None,
        coupon_id: int | None = None,
    ) -> Purchase: ...
    async def add_claiming(
        self, claims: Sequence[CounterClaim], activity: Sequence[ActivityChange], /, **purchase: Any
    ) -> tuple[Purchase, Mapping[CounterKey, Counted]]:
        """`add(**purchase)`, `RiskRepository.claim(claims)` and `ProfileRepository.add(activity)` in
        the same round trip where the store can: the earning's risk counters as they stood before it."""
        ...

    async def get(self, purchase_id: int) -> Purchase | None: ...
    async def due_for_maturity(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]: ...
    async def mature(self, purchase_id: int) -> int:
        """Take the purchase's pending points, once; call with the member's balance row locked."""
        ...

    async def firsts(self, member_id: int, merchant: Merchant) -> frozenset[FirstPurchase]:
        """Which kinds of first purchase a new purchase by the member at this merchant would be."""
        ...

    async def add_many(self, purchases: Sequence[NewPurchase], at: datetime) -> list[int]:
        """Write the purchases; returns their ids in the same order."""
        ...


class AdjustmentRepository(Protocol):
    async def add(
        self,
        *,
        member_id: int,
        points: int,
        reason_code: ReasonCode,
        note: str | None,
        actor: str,
        at: datetime,
    ) -> Adjustment: ...


class TransferRepository(Protocol):
    async def add(self, member_id: int, to_member_id: int, points: int, at: datetime) -> int: ...
    async def given_since(self, member_id: int, since: datetime) -> int: ...
