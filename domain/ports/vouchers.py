"""Vouchers of redeemed rewards."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.vouchers import Voucher, VoucherStatus


class VoucherRepository(Protocol):
    async def add(
        self,
        *,
        redemption_id: int,
        member_id: int,
        code: str,
        code_hash: str,
        expires_at: datetime,
        at: datetime,
    ) -> Voucher: ...
    async def by_code(self, code_hash: str) -> Voucher | None: ...
    async def for_redemption(self, redemption_id: int) -> Voucher | None: ...
    async def settle(
        self, redemption_id: int, to_status: VoucherStatus, at: datetime, merchant_id: int | None = None
    ) -> bool:
        """Move the redemption's voucher on from ACTIVE (a conditional UPDATE: of racing changes one
        wins); False, changing nothing, when there is none or it had already moved on. USED records
        `at` and the merchant."""
        ...

    async def due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        """(redemption id, member id) of ACTIVE vouchers whose date has passed, by redemption id
        after `after`."""
        ...
