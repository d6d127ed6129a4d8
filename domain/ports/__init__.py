"""The ports the domain needs, declared here by feature and implemented by `persistence/` (and by fakes
in tests).

Write side: repositories behind a unit of work that rolls back unless committed.
Read side: batch and page readers for the API; each call is independent of any unit of work.
"""

from domain.ports.catalogue import (
    MerchantRepository,
    PartnerRepository,
    ProgrammeRepository,
    RewardRepository,
)
from domain.ports.exposures import ExposureLog, ExposureStore
from domain.ports.guards import GuardRepository
from domain.ports.idempotency import IdempotencyStore, StoredResponse
from domain.ports.ledger import LedgerRepository, LotRepository
from domain.ports.logs import AuditLog, SecurityEventLog
from domain.ports.member_links import MemberLinkRepository
from domain.ports.members import MemberRepository
from domain.ports.notifications import ExpiringLots, NotificationLog
from domain.ports.offers import OfferRepository
from domain.ports.outbox import Outbox
from domain.ports.profiles import ProfileRepository
from domain.ports.purchase_lists import PurchaseLists
from domain.ports.purchases import AdjustmentRepository, PurchaseRepository, TransferRepository
from domain.ports.read_model import ExpiringPoints, MemberFilter, ReadModel
from domain.ports.redemptions import RedemptionCodeRepository, RedemptionRepository
from domain.ports.refunds import RefundRepository
from domain.ports.risk import RiskRepository
from domain.ports.segments import RefreshMark, SegmentRepository
from domain.ports.settlement_imports import SettlementImportReader, SettlementImportRepository
from domain.ports.statements import StatementReader
from domain.ports.tiers import TierRepository
from domain.ports.triggers import TriggerRepository
from domain.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.ports.vouchers import VoucherRepository
from domain.ports.wallet_offers import OfferWalletReader
from domain.ports.webhooks import WebhookRepository

__all__ = [
    "AdjustmentRepository",
    "AuditLog",
    "ExpiringLots",
    "ExpiringPoints",
    "ExposureLog",
    "ExposureStore",
    "GuardRepository",
    "IdempotencyStore",
    "LedgerRepository",
    "LotRepository",
    "MemberFilter",
    "MemberLinkRepository",
    "MemberRepository",
    "MerchantRepository",
    "NotificationLog",
    "OfferRepository",
    "OfferWalletReader",
    "Outbox",
    "PartnerRepository",
    "ProfileRepository",
    "ProgrammeRepository",
    "PurchaseLists",
    "PurchaseRepository",
    "ReadModel",
    "RedemptionCodeRepository",
    "RedemptionRepository",
    "RefreshMark",
    "RefundRepository",
    "RewardRepository",
    "RiskRepository",
    "SecurityEventLog",
    "SegmentRepository",
    "SettlementImportReader",
    "SettlementImportRepository",
    "StatementReader",
    "StoredResponse",
    "TierRepository",
    "TransferRepository",
    "TriggerRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "VoucherRepository",
    "WebhookRepository",
]
