from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.vouchers import Voucher, VoucherStatus
from persistence.personal_data import PersonalDataVault
from persistence.tables import vouchers


def voucher(row: Row[Any], vault: PersonalDataVault) -> Voucher:
    return Voucher(
        id=row.id,
        redemption_id=row.redemption_id,
        member_id=row.member_id,
        status=VoucherStatus(row.status),
        expires_at=row.expires_at,
        created_at=row.created_at,
        used_at=row.used_at,
        merchant_id=row.merchant_id,
        code=_unsealed(row.code_sealed, vault),
    )


def _unsealed(sealed: str | None, vault: PersonalDataVault) -> str | None:
    try:
        return vault.open(sealed)
    except Exception:  # a retired key: the voucher still works by its hash
        return None


class SqlVoucherRepository:
    def __init__(self, conn: AsyncConnection, vault: PersonalDataVault) -> None:
        self.conn = conn
        self.vault = vault

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
        row = (
            await self.conn.execute(
                insert(vouchers)
                .values(
                    redemption_id=redemption_id,
                    member_id=member_id,
                    code_hash=code_hash,
                    code_sealed=self.vault.seal(code),
                    status=VoucherStatus.ACTIVE.value,
                    expires_at=expires_at,
                    created_at=at,
                )
                .returning(*vouchers.c)
            )
        ).one()
        return voucher(row, self.vault)

    async def by_code(self, code_hash: str) -> Voucher | None:
        row = (await self.conn.execute(select(vouchers).where(vouchers.c.code_hash == code_hash))).first()
        return voucher(row, self.vault) if row else None

    async def for_redemption(self, redemption_id: int) -> Voucher | None:
        statement = select(vouchers).where(vouchers.c.redemption_id == redemption_id)
        row = (await self.conn.execute(statement)).first()
        return voucher(row, self.vault) if row else None

    async def settle(
        self, redemption_id: int, to_status: VoucherStatus, at: datetime, merchant_id: int | None = None
    ) -> bool:
        values: dict[str, object] = {"status": to_status.value}
        if to_status is VoucherStatus.USED:
            values.update(used_at=at, merchant_id=merchant_id)
        result = await self.conn.execute(
            update(vouchers)
            .where(vouchers.c.redemption_id == redemption_id, vouchers.c.status == VoucherStatus.ACTIVE.value)
            .values(values)
        )
        return result.rowcount == 1

    async def due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(
            select(vouchers.c.redemption_id, vouchers.c.member_id)
            .where(
                vouchers.c.status == VoucherStatus.ACTIVE.value,
                vouchers.c.expires_at <= now,
                vouchers.c.redemption_id > after,
            )
            .order_by(vouchers.c.redemption_id)
            .limit(limit)
        )
        return [(row.redemption_id, row.member_id) for row in rows]
