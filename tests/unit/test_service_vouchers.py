"""Vouchers over the in-memory fakes: issued with a reward's redemption (code shown once, only its
hash kept), redeemed once by a merchant, refused when expired, used or void; the expiry job gives
the points back exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import vouchers
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import RedeemReward
from domain.errors import DomainError, ErrorCode
from domain.members import Balance
from domain.rewards import RedemptionStatus
from domain.services.redemptions import redeem_reward
from domain.services.vouchers import RedeemVoucher, redeem_voucher, run_voucher_expiry
from domain.vouchers import VoucherStatus
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import LATER, balance, given_lot, given_member, given_reward, member_actor

SHOP = Actor(Role.MERCHANT, "pos-9", merchant_id=9, request_id="req-9")


async def issued(db: FakeDatabase, clock: FixedClock) -> tuple[int, int, str]:
    """A member with 1,000 points redeems a 400-point reward: (member id, redemption id, code)."""
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=400, stock=5)
    result = await redeem_reward(
        RedeemReward(reward.id, "wallet-1"),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert result.voucher_code is not None
    return member.id, result.redemption_id, result.voucher_code


async def test_a_redemption_issues_one_voucher_whose_code_only_the_answer_holds(
    db: FakeDatabase, clock: FixedClock
) -> None:
    _, redemption_id, code = await issued(db, clock)

    [(code_hash, voucher)] = db.tables.vouchers.items()
    assert vouchers.well_formed(code)
    assert code_hash == vouchers.code_hash(code)
    assert (voucher.redemption_id, voucher.status) == (redemption_id, VoucherStatus.ACTIVE)
    assert voucher.expires_at == NOW + timedelta(days=30)  # the programme's default validity
    assert code not in repr(db.tables.idempotency)  # the stored answer leaves the code out


async def test_a_merchant_redeems_a_voucher_once_and_the_redemption_is_fulfilled(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member_id, redemption_id, code = await issued(db, clock)

    used = await redeem_voucher(
        RedeemVoucher(f"{code[:8]}-{code[8:].lower()}", "v1"), actor=SHOP, uow=uow, clock=clock
    )
    with pytest.raises(DomainError) as again:
        await redeem_voucher(RedeemVoucher(code, "v2"), actor=SHOP, uow=uow, clock=clock)

    assert (used.status, used.merchant_id, used.redemption_id) == ("USED", 9, redemption_id)
    assert again.value.code is ErrorCode.ALREADY_FINALIZED
    assert db.tables.redemptions[redemption_id].status is RedemptionStatus.FULFILLED
    assert balance(db, member_id) == Balance(member_id, 600, 0, 0, 1000, 400)


@pytest.mark.parametrize(
    ("presented", "error"),
    [
        ("ABCDEFGHJKMNPQRS", ErrorCode.NOT_FOUND),
        ("0OIL", ErrorCode.VALIDATION),
        ("A" * 65, ErrorCode.VALIDATION),
    ],
)
async def test_a_wrong_code_is_a_wrong_guess_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, presented: str, error: ErrorCode
) -> None:
    await issued(db, clock)
    before = dict(db.tables.vouchers)

    with pytest.raises(DomainError) as refused:
        await redeem_voucher(RedeemVoucher(presented, "v1"), actor=SHOP, uow=uow, clock=clock)

    assert (refused.value.code, refused.value.field, refused.value.wrong_code) == (error, ("code",), True)
    assert db.tables.vouchers == before
    assert [r.status for r in db.tables.redemptions.values()] == [RedemptionStatus.REQUESTED]


async def test_an_expired_voucher_is_refused_and_the_job_returns_its_points_once(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member_id, redemption_id, code = await issued(db, clock)
    later = FixedClock(NOW + timedelta(days=30))

    with pytest.raises(DomainError) as refused:
        await redeem_voucher(RedeemVoucher(code, "v1"), actor=SHOP, uow=uow, clock=later)
    early = await run_voucher_expiry(lambda: FakeUnitOfWork(db), FixedClock(NOW + timedelta(days=29)))
    run = await run_voucher_expiry(lambda: FakeUnitOfWork(db), later)
    again = await run_voucher_expiry(lambda: FakeUnitOfWork(db), later)

    assert (refused.value.code, refused.value.wrong_code) == (ErrorCode.EXPIRED, False)
    assert (early.vouchers, run.vouchers, run.points, again.vouchers) == (0, 1, 400, 0)
    assert db.tables.redemptions[redemption_id].status is RedemptionStatus.CANCELLED
    assert next(iter(db.tables.vouchers.values())).status is VoucherStatus.EXPIRED
    assert balance(db, member_id) == Balance(member_id, 1000, 0, 0, 1000, 0)


async def test_only_a_merchant_redeems(db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock) -> None:
    member_id, _, code = await issued(db, clock)

    with pytest.raises(DomainError) as refused:
        await redeem_voucher(RedeemVoucher(code, "v1"), actor=member_actor(member_id), uow=uow, clock=clock)

    assert refused.value.code is ErrorCode.FORBIDDEN
