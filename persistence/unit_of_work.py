"""The unit of work: one connection and transaction; rolls back unless committed.

A connection that turns out to be gone (see persistence/disconnects.py) is reported in the domain's
terms: before a commit nothing was changed (`Unavailable`, which the API retries); during COMMIT, or
after an earlier transaction of the same unit of work committed, the outcome is unknown
(`OutcomeUnknown`: the caller retries with the same idempotency key)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import DomainError, OutcomeUnknown, Unavailable
from persistence.catalogue import Catalogue, cache_for
from persistence.delivery import SqlWebhookRepository
from persistence.disconnects import is_disconnect
from persistence.personal_data import vault_for
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
from persistence.repositories.guards import SqlGuardRepository
from persistence.repositories.idempotency import SqlIdempotencyStore
from persistence.repositories.ledger import SqlLedgerRepository, SqlLotRepository
from persistence.repositories.member_links import SqlMemberLinkRepository
from persistence.repositories.members import SqlMemberRepository
from persistence.repositories.notifications import SqlNotificationLog
from persistence.repositories.offers import SqlOfferRepository
from persistence.repositories.outbox import SqlOutbox
from persistence.repositories.profiles import SqlProfileRepository
from persistence.repositories.redemption_codes import SqlRedemptionCodeRepository
from persistence.repositories.refunds import SqlRefundRepository
from persistence.repositories.risk import SqlRiskRepository
from persistence.repositories.security_events import SqlSecurityEventLog
from persistence.repositories.segments import SqlSegmentRepository
from persistence.repositories.settlement_imports import SqlSettlementImportRepository
from persistence.repositories.tiers import SqlTierRepository
from persistence.repositories.triggers import SqlTriggerRepository
from persistence.repositories.vouchers import SqlVoucherRepository
from telemetry.metrics import count_postings


class SqlAlchemyUnitOfWork:
    """Re-enterable: each `async with` opens a fresh connection and transaction."""

    def __init__(self, engine: AsyncEngine, *, profiles: bool = True, outbox: bool = True) -> None:
        self.engine = engine
        self.count_profiles = profiles  # members' day counters (PROFILES): off only to measure them
        self.outbox_enabled = outbox  # business events (OUTBOX_ENABLED): off only to measure them
        self._conn: AsyncConnection | None = None
        self._committed = False  # by an earlier `async with` of this unit of work

    async def __aenter__(self) -> Self:
        try:
            conn = await self.engine.connect()
            await conn.begin()
        except Exception as error:
            if is_disconnect(error):
                raise self._lost() from error
            raise
        self._conn = conn
        catalogue = Catalogue(conn, cache_for(self.engine))
        self.members = SqlMemberRepository(conn, catalogue, vault_for(self.engine))
        self.merchants = SqlMerchantRepository(conn, catalogue)
        self.partners = SqlPartnerRepository(conn)
        self.rewards = SqlRewardRepository(conn)
        self.programme = SqlProgrammeRepository(catalogue)
        self.ledger = SqlLedgerRepository(conn)
        self.lots = SqlLotRepository(conn)
        self.purchases = SqlPurchaseRepository(conn, counting=self.count_profiles)
        self.redemptions = SqlRedemptionRepository(conn)
        self.redemption_codes = SqlRedemptionCodeRepository(conn)
        self.adjustments = SqlAdjustmentRepository(conn)
        self.transfers = SqlTransferRepository(conn)
        self.member_links = SqlMemberLinkRepository(conn)
        self.refunds = SqlRefundRepository(conn)
        self.outbox = SqlOutbox(conn, enabled=self.outbox_enabled)
        self.idempotency = SqlIdempotencyStore(conn, self.outbox)
        self.offers = SqlOfferRepository(conn, catalogue)
        self.tiers = SqlTierRepository(conn, catalogue)
        self.audit = SqlAuditLog(conn)
        self.security_events = SqlSecurityEventLog(conn)
        self.settlement_imports = SqlSettlementImportRepository(conn)
        self.risk = SqlRiskRepository(conn, catalogue)
        self.profiles = SqlProfileRepository(conn, counting=self.count_profiles)
        self.segments = SqlSegmentRepository(conn)
        self.vouchers = SqlVoucherRepository(conn, vault_for(self.engine))
        self.guards = SqlGuardRepository(conn, catalogue)
        self.webhooks = SqlWebhookRepository(conn)
        self.notifications = SqlNotificationLog(conn)
        self.triggers = SqlTriggerRepository(conn)
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
        lost = exc is not None and not isinstance(exc, DomainError) and is_disconnect(exc)
        try:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()
        except Exception as error:
            if not (lost or isinstance(exc, OutcomeUnknown)) or not is_disconnect(error):
                raise
            # The connection is gone (SQLAlchemy invalidated it and the pool): the error already
            # on its way out says what happened.
        if lost:
            assert exc is not None
            raise self._lost() from exc

    async def commit(self) -> None:
        assert self._conn is not None, "commit outside the unit of work"
        # Audit rows are appended last, just before COMMIT: see SqlAuditLog.
        await self.audit.flush()
        await self.outbox.flush()  # the events of exactly what commits
        try:
            await self._conn.commit()
        except Exception as error:
            if is_disconnect(error):
                raise OutcomeUnknown(
                    "the connection to the database was lost while committing: the change may or may "
                    "not have been made; retry with the same idempotency key"
                ) from error
            raise
        self._committed = True
        count_postings(self.ledger.posted)  # what the metrics count is what committed
        self.ledger.posted.clear()

    def _lost(self) -> DomainError:
        if self._committed:
            return OutcomeUnknown(
                "the connection to the database was lost after part of the change was committed; "
                "retry with the same idempotency key"
            )
        return Unavailable("the database cannot be reached; nothing was changed, retry later")
