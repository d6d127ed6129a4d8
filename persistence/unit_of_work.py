"""The unit of work: one connection and transaction; rolls back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from persistence.catalogue import Catalogue, cache_for
from persistence.repositories.activity import (
    SqlAdjustmentRepository,
    SqlPurchaseRepository,
    SqlRedemptionRepository,
    SqlTransferRepository,
)
from persistence.repositories.audit import SqlAuditLog
from persistence.repositories.catalogue import (
    SqlMerchantRepository,
    SqlPartnerRepository,
    SqlProgrammeRepository,
    SqlRewardRepository,
)
from persistence.repositories.idempotency import SqlIdempotencyStore
from persistence.repositories.ledger import SqlLedgerRepository, SqlLotRepository
from persistence.repositories.members import SqlMemberRepository
from persistence.repositories.offers import SqlOfferRepository
from persistence.repositories.redemption_codes import SqlRedemptionCodeRepository
from persistence.repositories.refunds import SqlRefundRepository
from persistence.repositories.security_events import SqlSecurityEventLog
from persistence.repositories.tiers import SqlTierRepository


class SqlAlchemyUnitOfWork:
    """Re-enterable: each `async with` opens a fresh connection and transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        conn = await self.engine.connect()
        await conn.begin()
        self._conn = conn
        catalogue = Catalogue(conn, cache_for(self.engine))
        self.members = SqlMemberRepository(conn, catalogue)
        self.merchants = SqlMerchantRepository(conn, catalogue)
        self.partners = SqlPartnerRepository(conn)
        self.rewards = SqlRewardRepository(conn)
        self.programme = SqlProgrammeRepository(catalogue)
        self.ledger = SqlLedgerRepository(conn)
        self.lots = SqlLotRepository(conn)
        self.purchases = SqlPurchaseRepository(conn)
        self.redemptions = SqlRedemptionRepository(conn)
        self.redemption_codes = SqlRedemptionCodeRepository(conn)
        self.adjustments = SqlAdjustmentRepository(conn)
        self.transfers = SqlTransferRepository(conn)
        self.refunds = SqlRefundRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)
        self.offers = SqlOfferRepository(conn, catalogue)
        self.tiers = SqlTierRepository(conn, catalogue)
        self.audit = SqlAuditLog(conn)
        self.security_events = SqlSecurityEventLog(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    async def commit(self) -> None:
        assert self._conn is not None, "commit outside the unit of work"
        await self._conn.commit()
