"""One transaction over the fake database and the fakes that work in it."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from tests.unit.fakes.catalogue import (
    FakeMerchantRepository,
    FakePartnerRepository,
    FakeProgrammeRepository,
    FakeRewardRepository,
)
from tests.unit.fakes.database import FakeDatabase, Tables
from tests.unit.fakes.guards import FakeGuardRepository
from tests.unit.fakes.idempotency import FakeIdempotencyStore
from tests.unit.fakes.ledger import FakeLedgerRepository, FakeLotRepository
from tests.unit.fakes.logs import FakeAuditLog, FakeSecurityEventLog
from tests.unit.fakes.member_links import FakeMemberLinkRepository
from tests.unit.fakes.members import FakeMemberRepository
from tests.unit.fakes.notifications import FakeNotificationLog, FakeTriggerRepository
from tests.unit.fakes.offers import FakeOfferRepository
from tests.unit.fakes.outbox import FakeOutbox
from tests.unit.fakes.profiles import FakeProfileRepository
from tests.unit.fakes.purchases import (
    FakeAdjustmentRepository,
    FakePurchaseRepository,
    FakeTransferRepository,
)
from tests.unit.fakes.redemptions import FakeRedemptionCodeRepository, FakeRedemptionRepository
from tests.unit.fakes.refunds import FakeRefundRepository
from tests.unit.fakes.risk import FakeRiskRepository
from tests.unit.fakes.segments import FakeSegmentRepository
from tests.unit.fakes.settlement_imports import FakeSettlementImportRepository
from tests.unit.fakes.tiers import FakeTierRepository
from tests.unit.fakes.vouchers import FakeVoucherRepository
from tests.unit.fakes.webhooks import FakeWebhookRepository


class FakeUnitOfWork:
    """Re-enterable: each `async with` is one transaction, rolled back unless committed."""

    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db or FakeDatabase()
        self.commits = 0
        self._committed_state: Tables | None = None
        self.members = FakeMemberRepository(self.db)
        self.merchants = FakeMerchantRepository(self.db)
        self.partners = FakePartnerRepository(self.db)
        self.rewards = FakeRewardRepository(self.db)
        self.programme = FakeProgrammeRepository(self.db)
        self.ledger = FakeLedgerRepository(self.db)
        self.lots = FakeLotRepository(self.db)
        self.purchases = FakePurchaseRepository(self.db)
        self.redemptions = FakeRedemptionRepository(self.db)
        self.redemption_codes = FakeRedemptionCodeRepository(self.db)
        self.member_links = FakeMemberLinkRepository(self.db)
        self.adjustments = FakeAdjustmentRepository(self.db)
        self.transfers = FakeTransferRepository(self.db)
        self.refunds = FakeRefundRepository(self.db)
        self.idempotency = FakeIdempotencyStore(self.db)
        self.audit = FakeAuditLog(self.db)
        self.security_events = FakeSecurityEventLog(self.db)
        self.offers = FakeOfferRepository(self.db)
        self.tiers = FakeTierRepository(self.db)
        self.risk = FakeRiskRepository(self.db)
        self.profiles = FakeProfileRepository(self.db)
        self.segments = FakeSegmentRepository(self.db)
        self.vouchers = FakeVoucherRepository(self.db)
        self.settlement_imports = FakeSettlementImportRepository(self.db)
        self.guards = FakeGuardRepository(self.db)
        self.outbox = FakeOutbox(self.db)
        self.webhooks = FakeWebhookRepository(self.db)
        self.notifications = FakeNotificationLog(self.db)
        self.triggers = FakeTriggerRepository(self.db)

    @property
    def committed(self) -> bool:
        return self.commits > 0

    async def __aenter__(self) -> Self:
        assert self._committed_state is None, "the unit of work is already open"
        self._committed_state = copy.deepcopy(self.db.tables)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._committed_state is not None
        self.db.tables, self._committed_state = self._committed_state, None  # roll back what is uncommitted

    async def commit(self) -> None:
        assert self._committed_state is not None, "commit outside the unit of work"
        self._committed_state = copy.deepcopy(self.db.tables)
        self.commits += 1
