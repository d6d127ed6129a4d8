"""Each fake is its whole port: mypy checks these assignments (this module is in its `files`), so a
port method the fake lacks, or one whose signature drifted, fails the type check; the test below
fails at run time when a fake lacks one."""

from __future__ import annotations

import inspect

import pytest

from domain import ports
from domain.ports.experiments import AssignmentLog
from tests.unit.fakes import (
    FakeAdjustmentRepository,
    FakeAssignmentLog,
    FakeAuditLog,
    FakeDatabase,
    FakeExposureLog,
    FakeGuardRepository,
    FakeIdempotencyStore,
    FakeLedgerRepository,
    FakeLotRepository,
    FakeMemberLinkRepository,
    FakeMemberRepository,
    FakeMerchantRepository,
    FakeNotificationLog,
    FakeOfferRepository,
    FakeOfferWalletReader,
    FakeOutbox,
    FakePartnerRepository,
    FakeProfileRepository,
    FakeProgrammeRepository,
    FakePurchaseRepository,
    FakeRedemptionCodeRepository,
    FakeRedemptionRepository,
    FakeRefundRepository,
    FakeRewardRepository,
    FakeRiskRepository,
    FakeSecurityEventLog,
    FakeSegmentRepository,
    FakeSettlementImportRepository,
    FakeTierRepository,
    FakeTransferRepository,
    FakeTriggerRepository,
    FakeUnitOfWork,
    FakeVoucherRepository,
    FakeWebhookRepository,
)

db = FakeDatabase()

members: ports.MemberRepository = FakeMemberRepository(db)
merchants: ports.MerchantRepository = FakeMerchantRepository(db)
partners: ports.PartnerRepository = FakePartnerRepository(db)
rewards: ports.RewardRepository = FakeRewardRepository(db)
programme: ports.ProgrammeRepository = FakeProgrammeRepository(db)
ledger: ports.LedgerRepository = FakeLedgerRepository(db)
lots: ports.LotRepository = FakeLotRepository(db)
purchases: ports.PurchaseRepository = FakePurchaseRepository(db)
redemptions: ports.RedemptionRepository = FakeRedemptionRepository(db)
redemption_codes: ports.RedemptionCodeRepository = FakeRedemptionCodeRepository(db)
member_links: ports.MemberLinkRepository = FakeMemberLinkRepository(db)
risk: ports.RiskRepository = FakeRiskRepository(db)
profiles: ports.ProfileRepository = FakeProfileRepository(db)
segments: ports.SegmentRepository = FakeSegmentRepository(db)
notification_log: ports.NotificationLog = FakeNotificationLog(db)
trigger_repository: ports.TriggerRepository = FakeTriggerRepository(db)
adjustments: ports.AdjustmentRepository = FakeAdjustmentRepository(db)
transfers: ports.TransferRepository = FakeTransferRepository(db)
refunds: ports.RefundRepository = FakeRefundRepository(db)
idempotency: ports.IdempotencyStore = FakeIdempotencyStore(db)
offers: ports.OfferRepository = FakeOfferRepository(db)
tiers: ports.TierRepository = FakeTierRepository(db)
audit: ports.AuditLog = FakeAuditLog(db)
security_events: ports.SecurityEventLog = FakeSecurityEventLog(db)
vouchers: ports.VoucherRepository = FakeVoucherRepository(db)
settlement_imports: ports.SettlementImportRepository = FakeSettlementImportRepository(db)
guards: ports.GuardRepository = FakeGuardRepository(db)
outbox: ports.Outbox = FakeOutbox(db)
webhooks: ports.WebhookRepository = FakeWebhookRepository(db)
uow: ports.UnitOfWork = FakeUnitOfWork(db)
wallet_offers: ports.OfferWalletReader = FakeOfferWalletReader(db)
assignment_log: AssignmentLog = FakeAssignmentLog(db)
exposure_log: ports.ExposureLog = FakeExposureLog()
exposure_store: ports.ExposureStore = FakeExposureLog()
uow_factory: ports.UnitOfWorkFactory = lambda: FakeUnitOfWork(db)  # noqa: E731

# The port each attribute of the unit of work must implement, by the attribute's name.
UNIT_OF_WORK_PORTS: dict[str, type] = {
    name: inspect.get_annotations(prop.fget, eval_str=True)["return"]
    for name, prop in vars(ports.UnitOfWork).items()
    if isinstance(prop, property) and prop.fget is not None
}


def port_methods(port: type) -> set[str]:
    return {name for name, value in vars(port).items() if not name.startswith("_") and callable(value)}


def test_the_unit_of_work_names_every_write_side_port() -> None:
    assert len(UNIT_OF_WORK_PORTS) == 29
    assert UNIT_OF_WORK_PORTS["refunds"] is ports.RefundRepository
    assert UNIT_OF_WORK_PORTS["transfers"] is ports.TransferRepository


@pytest.mark.parametrize("name", sorted(UNIT_OF_WORK_PORTS))
def test_each_fake_has_every_method_of_its_port_with_the_same_parameters(
    name: str,
) -> None:
    port = UNIT_OF_WORK_PORTS[name]
    fake = getattr(FakeUnitOfWork(FakeDatabase()), name)
    for method in port_methods(port):
        assert inspect.iscoroutinefunction(getattr(fake, method)), f"{type(fake).__name__}.{method}"
        wanted = list(inspect.signature(getattr(port, method)).parameters.values())[1:]  # without self
        assert list(inspect.signature(getattr(fake, method)).parameters.values()) == wanted, (
            f"{type(fake).__name__}.{method}"
        )


def test_the_wallet_offer_reader_fake_has_every_method_of_its_port() -> None:
    fake = FakeOfferWalletReader(FakeDatabase())
    for method in port_methods(ports.OfferWalletReader):
        wanted = list(inspect.signature(getattr(ports.OfferWalletReader, method)).parameters.values())[1:]
        assert list(inspect.signature(getattr(fake, method)).parameters.values()) == wanted, method


def test_the_assignment_log_fake_has_every_method_of_its_port() -> None:
    fake = FakeAssignmentLog(FakeDatabase())
    for method in port_methods(AssignmentLog):
        wanted = list(inspect.signature(getattr(AssignmentLog, method)).parameters.values())[1:]
        assert list(inspect.signature(getattr(fake, method)).parameters.values()) == wanted, method


@pytest.mark.parametrize("port", [ports.ExposureLog, ports.ExposureStore])
def test_the_exposure_log_fake_has_every_method_of_its_ports(port: type) -> None:
    fake = FakeExposureLog()
    for method in port_methods(port):
        assert inspect.iscoroutinefunction(getattr(fake, method)), method
        wanted = list(inspect.signature(getattr(port, method)).parameters.values())[1:]
        assert list(inspect.signature(getattr(fake, method)).parameters.values()) == wanted, method
