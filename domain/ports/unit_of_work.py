"""One transaction and the repositories that work in it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from domain.ports.catalogue import (
    MerchantRepository,
    PartnerRepository,
    ProgrammeRepository,
    RewardRepository,
)
from domain.ports.guards import GuardRepository
from domain.ports.idempotency import IdempotencyStore
from domain.ports.ledger import LedgerRepository, LotRepository
from domain.ports.logs import AuditLog, SecurityEventLog
from domain.ports.member_links import MemberLinkRepository
from domain.ports.members import MemberRepository
from domain.ports.notifications import NotificationLog
from domain.ports.offers import OfferRepository
from domain.ports.outbox import Outbox
from domain.ports.profiles import ProfileRepository
from domain.ports.purchases import AdjustmentRepository, PurchaseRepository, TransferRepository
from domain.ports.redemptions import RedemptionCodeRepository, RedemptionRepository
from domain.ports.refunds import RefundRepository
from domain.ports.risk import RiskRepository
from domain.ports.segments import SegmentRepository
from domain.ports.settlement_imports import SettlementImportRepository
from domain.ports.tiers import TierRepository
from domain.ports.triggers import TriggerRepository
from domain.ports.vouchers import VoucherRepository
from domain.ports.webhooks import WebhookRepository


class UnitOfWork(Protocol):
    """One transaction and the repositories that work in it. The repositories are read-only here, so
    an implementation may hold narrower types (its own SQL repositories, a test's fakes)."""

    @property
    def members(self) -> MemberRepository: ...
    @property
    def merchants(self) -> MerchantRepository: ...
    @property
    def partners(self) -> PartnerRepository: ...
    @property
    def rewards(self) -> RewardRepository: ...
    @property
    def programme(self) -> ProgrammeRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def lots(self) -> LotRepository: ...
    @property
    def purchases(self) -> PurchaseRepository: ...
    @property
    def redemptions(self) -> RedemptionRepository: ...
    @property
    def redemption_codes(self) -> RedemptionCodeRepository: ...
    @property
    def adjustments(self) -> AdjustmentRepository: ...
    @property
    def transfers(self) -> TransferRepository: ...
    @property
    def member_links(self) -> MemberLinkRepository: ...
    @property
    def refunds(self) -> RefundRepository: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def offers(self) -> OfferRepository: ...
    @property
    def tiers(self) -> TierRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def security_events(self) -> SecurityEventLog: ...
    @property
    def risk(self) -> RiskRepository: ...
    @property
    def profiles(self) -> ProfileRepository: ...
    @property
    def segments(self) -> SegmentRepository: ...
    @property
    def notifications(self) -> NotificationLog: ...
    @property
    def triggers(self) -> TriggerRepository: ...
    @property
    def vouchers(self) -> VoucherRepository: ...
    @property
    def settlement_imports(self) -> SettlementImportRepository: ...
    @property
    def guards(self) -> GuardRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def webhooks(self) -> WebhookRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
