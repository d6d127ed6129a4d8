"""Vouchers of redeemed rewards, kept by their code's hash (as the table's unique key)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.vouchers import Voucher, VoucherStatus
from tests.unit.fakes.database import Repository


class FakeVoucherRepository(Repository):
    async def add(
        self,
        *,
        redemption_id: int,
        member_id: int,
        code: str,
        code_hash: str,
        expires_at: datetime,
        at: datetime,
    ) -> Voucher:
        if code_hash in self.t.vouchers:
            raise RuntimeError("this code hash is taken (a unique violation)")
        voucher = Voucher(
            self.db.next_id(), redemption_id, member_id, VoucherStatus.ACTIVE, expires_at, at, code=code
        )
        self.t.vouchers[code_hash] = voucher
        return voucher

    async def by_code(self, code_hash: str) -> Voucher | None:
        return self.t.vouchers.get(code_hash)

    async def for_redemption(self, redemption_id: int) -> Voucher | None:
        return next((v for v in self.t.vouchers.values() if v.redemption_id == redemption_id), None)

    async def settle(
        self, redemption_id: int, to_status: VoucherStatus, at: datetime, merchant_id: int | None = None
    ) -> bool:
        for code_hash, voucher in self.t.vouchers.items():
            if voucher.redemption_id == redemption_id and voucher.status is VoucherStatus.ACTIVE:
                used = to_status is VoucherStatus.USED
                self.t.vouchers[code_hash] = replace(
                    voucher,
                    status=to_status,
                    used_at=at if used else None,
                    merchant_id=merchant_id if used else None,
                )
                return True
        return False

    async def due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        found = sorted(
            (v.redemption_id, v.member_id)
            for v in self.t.vouchers.values()
            if v.status is VoucherStatus.ACTIVE and v.expires_at <= now and v.redemption_id > after
        )
        return found[:limit]
