"""In-memory implementations of the write-side ports in `domain/ports/`, for unit tests: one module
per port module, each fake the whole port, behaving as its SQL repository in `persistence/`.

All state lives in one `Tables` object held by a `FakeDatabase`. A `FakeUnitOfWork` snapshots the
tables when a block opens and at every commit, and restores the last snapshot when the block ends:
whatever was not committed is rolled back, as with the real unit of work. Ids come from one
sequence that, like a database sequence, is not rolled back.
"""

from tests.unit.fakes.catalogue import (
    FakeMerchantRepository,
    FakePartnerRepository,
    FakeProgrammeRepository,
    FakeRewardRepository,
)
from tests.unit.fakes.database import (
    DEFAULT_PROGRAMME,
    AwardRow,
    FakeDatabase,
    IdempotencyRow,
    PostedEntry,
    PurchaseTerms,
    RedemptionCodeRow,
    Tables,
)
from tests.unit.fakes.experiments import FakeAssignmentLog
from tests.unit.fakes.exposures import FakeExposureLog
from tests.unit.fakes.guards import FakeGuardRepository, GuardTables
from tests.unit.fakes.idempotency import FakeIdempotencyStore
from tests.unit.fakes.ledger import FakeLedgerRepository, FakeLotRepository
from tests.unit.fakes.logs import FakeAuditLog, FakeSecurityEventLog
from tests.unit.fakes.member_links import FakeMemberLinkRepository, MemberLinkRow, linked
from tests.unit.fakes.members import FakeMemberRepository
from tests.unit.fakes.notifications import FakeNotificationLog, FakeTriggerRepository
from tests.unit.fakes.offers import FakeOfferRepository
from tests.unit.fakes.outbox import FakeOutbox
from tests.unit.fakes.profiles import FakeProfileRepository, ProfileTables
from tests.unit.fakes.purchases import (
    FakeAdjustmentRepository,
    FakePurchaseRepository,
    FakeTransferRepository,
)
from tests.unit.fakes.redemptions import FakeRedemptionCodeRepository, FakeRedemptionRepository
from tests.unit.fakes.refunds import FakeRefundRepository
from tests.unit.fakes.risk import FakeRiskRepository, RiskTables, raise_risk_limits
from tests.unit.fakes.segments import FakeSegmentRepository, SegmentTables
from tests.unit.fakes.settlement_imports import FakeSettlementImportRepository
from tests.unit.fakes.tiers import FakeTierRepository
from tests.unit.fakes.unit_of_work import FakeUnitOfWork
from tests.unit.fakes.vouchers import FakeVoucherRepository
from tests.unit.fakes.wallet_offers import FakeOfferWalletReader
from tests.unit.fakes.webhooks import FakeWebhookRepository

__all__ = [
    "DEFAULT_PROGRAMME",
    "AwardRow",
    "FakeAdjustmentRepository",
    "FakeAssignmentLog",
    "FakeAuditLog",
    "FakeDatabase",
    "FakeExposureLog",
    "FakeGuardRepository",
    "FakeIdempotencyStore",
    "FakeLedgerRepository",
    "FakeLotRepository",
    "FakeMemberLinkRepository",
    "FakeMemberRepository",
    "FakeMerchantRepository",
    "FakeNotificationLog",
    "FakeOfferRepository",
    "FakeOfferWalletReader",
    "FakeOutbox",
    "FakePartnerRepository",
    "FakeProfileRepository",
    "FakeProgrammeRepository",
    "FakePurchaseRepository",
    "FakeRedemptionCodeRepository",
    "FakeRedemptionRepository",
    "FakeRefundRepository",
    "FakeRewardRepository",
    "FakeRiskRepository",
    "FakeSecurityEventLog",
    "FakeSegmentRepository",
    "FakeSettlementImportRepository",
    "FakeTierRepository",
    "FakeTransferRepository",
    "FakeTriggerRepository",
    "FakeUnitOfWork",
    "FakeVoucherRepository",
    "FakeWebhookRepository",
    "GuardTables",
    "IdempotencyRow",
    "MemberLinkRow",
    "PostedEntry",
    "ProfileTables",
    "PurchaseTerms",
    "RedemptionCodeRow",
    "RiskTables",
    "SegmentTables",
    "Tables",
    "linked",
    "raise_risk_limits",
]
