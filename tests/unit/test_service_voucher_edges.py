"""Vouchers at the edges, over the fakes: what a redemption at the till stores, answers, replays and
audits; each refusal's message (used, void, expired, unknown, malformed, no merchant, resolved
meanwhile); and the expiry job's batches, totals and the vouchers it passes over."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

import domain.services.vouchers as voucher_service
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import CancelRedemption, RedeemReward
from domain.errors import ErrorCode
from domain.members import Balance
from domain.rewards import RedemptionStatus
from domain.services.fulfilment import cancel_redemption
from domain.services.redemptions import redeem_reward
from domain.services.vouchers import (
    RedeemVoucher,
    VoucherExpiryRun,
    expire_voucher,
    redeem_voucher,
    run_voucher_expiry,
)
from domain.vouchers import MAX_INPUT, VoucherResult, VoucherStatus
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import (
    ADMIN,
    LATER,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    given_reward,
    member_actor,
    raised,
    snapshot,
)

SHOP = Actor(Role.MERCHANT, "pos-9", merchant_id=9, request_id="req-9")
EXPIRES = NOW + timedelta(days=30)  # the programme's default validity


async def issued(db: FakeDatabase, ref: str = "CRM-1", cost: int = 400) -> tuple[int, int, int, str]:
    """A member with 1,000 points redeems a reward: (member id, reward id, redemption id, code)."""
    member = await given_member(db, ref)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=cost, stock=5)
    result = await redeem_reward(
        RedeemReward(reward.id, f"wallet-{ref}"),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    assert result.voucher_code is not None
    return member.id, reward.id, result.redemption_id, result.voucher_code


async def present(
    db: FakeDatabase, code: str, key: str = "v-1", at: FixedClock | None = None
) -> VoucherResult:
    return await redeem_voucher(
        RedeemVoucher(code, key), actor=SHOP, uow=FakeUnitOfWork(db), clock=at or FixedClock(NOW)
    )


async def test_a_redeemed_voucher_is_stored_used_answered_replayed_and_audited() -> None:
    db = FakeDatabase()
    member_id, reward_id, redemption_id, code = await issued(db)
    at = NOW + timedelta(hours=3)
    padded = f" {code[:4]}-{code[4:8]} {code[8:].lower()} ".ljust(MAX_INPUT)  # as long as may be given

    used = await present(db, padded, at=FixedClock(at))
    again = await present(db, code, at=FixedClock(at + timedelta(minutes=1)))

    [voucher] = db.tables.vouchers.values()
    assert used == VoucherResult(
        voucher.id,
        redemption_id,
        member_id,
        reward_id,
        "USED",
        EXPIRES.isoformat(),
        NOW.isoformat(),
        at.isoformat(),
        9,
    )
    assert again == used
    assert (voucher.status, voucher.used_at, voucher.merchant_id) == (VoucherStatus.USED, at, 9)
    redemption = db.tables.redemptions[redemption_id]
    assert (redemption.status, redemption.finalized_at) == (RedemptionStatus.FULFILLED, at)
    [event] = [e for e in db.tables.audit if e.action == "redeemVoucher"]
    assert (event.actor, event.target_type, event.target_id, event.at) == (
        "pos-9",
        "Redemption",
        redemption_id,
        at,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.before["finalized_at"]) == ("REQUESTED", None)
    assert (event.after["status"], event.after["finalized_at"]) == ("FULFILLED", str(at))
    assert balance(db, member_id) == Balance(member_id, 600, 0, 0, 1000, 400)


async def test_a_code_longer_than_may_be_given_is_not_even_looked_up() -> None:
    db = FakeDatabase()
    *_, code = await issued(db)

    error = await raised(present(db, code.ljust(MAX_INPUT + 1)))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, "not a voucher code", ("code",))


async def test_each_refusal_says_why() -> None:
    db = FakeDatabase()
    *_, used_code = await issued(db, "CRM-1")
    *_, void_redemption, void_code = await issued(db, "CRM-2")
    *_, expired_code = await issued(db, "CRM-3")
    await present(db, used_code)
    await cancel_redemption(
        CancelRedemption(void_redemption, "changed mind", "cancel-1"),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    before = snapshot(db)

    errors = [
        await raised(present(db, used_code, "v-2")),
        await raised(present(db, void_code, "v-3")),
        await raised(present(db, expired_code, "v-4", FixedClock(EXPIRES))),
        await raised(present(db, "ABCDEFGHJKMNPQRS", "v-5")),
        await raised(present(db, "0OIL", "v-6")),
    ]

    assert [(e.code, e.message, e.field) for e in errors] == [
        (ErrorCode.ALREADY_FINALIZED, "this voucher was already used", ("code",)),
        (
            ErrorCode.ALREADY_FINALIZED,
            "this voucher is void: its redemption was cancelled or fulfilled",
            ("code",),
        ),
        (ErrorCode.EXPIRED, f"this voucher expired at {EXPIRES:%Y-%m-%d %H:%M} UTC", ("code",)),
        (ErrorCode.NOT_FOUND, "no voucher has this code", ("code",)),
        (ErrorCode.VALIDATION, "not a voucher code", ("code",)),
    ]
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_merchant_token_naming_no_merchant_redeems_nothing() -> None:
    db = FakeDatabase()
    *_, code = await issued(db)

    error = await raised(
        redeem_voucher(
            RedeemVoucher(code, "v-1"),
            actor=Actor(Role.MERCHANT, "pos-?"),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message) == (ErrorCode.FORBIDDEN, "the token names no merchant")


async def test_a_redemption_resolved_meanwhile_leaves_the_voucher_as_it_was() -> None:
    db = FakeDatabase()
    _, _, redemption_id, code = await issued(db)
    # another transaction fulfilled the redemption between the voucher's read and its update
    db.tables.redemptions[redemption_id] = replace(
        db.tables.redemptions[redemption_id], status=RedemptionStatus.FULFILLED
    )

    error = await raised(present(db, code))

    assert (error.code, error.message, error.field) == (
        ErrorCode.ALREADY_FINALIZED,
        "this voucher was resolved meanwhile",
        ("code",),
    )
    [voucher] = db.tables.vouchers.values()
    assert (voucher.status, voucher.used_at, voucher.merchant_id) == (VoucherStatus.ACTIVE, None, None)


async def test_the_expiry_job_goes_a_batch_at_a_time_with_exact_totals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(voucher_service, "BATCH", 1)
    db = FakeDatabase()
    first, *_ = await issued(db, "CRM-1", cost=400)
    second, *_ = await issued(db, "CRM-2", cost=250)
    seen: list[int] = []

    run = await run_voucher_expiry(lambda: FakeUnitOfWork(db), FixedClock(EXPIRES), seen.append)

    assert (run, seen) == (VoucherExpiryRun(2, 650), [1, 2])
    assert [balance(db, m).available for m in (first, second)] == [1000, 1000]
    assert all(v.status is VoucherStatus.EXPIRED for v in db.tables.vouchers.values())


async def test_a_voucher_whose_member_is_busy_waits_for_the_next_run() -> None:
    db = FakeDatabase()
    member_id, *_ = await issued(db)
    db.locked_elsewhere = {member_id}

    busy = await run_voucher_expiry(lambda: FakeUnitOfWork(db), FixedClock(EXPIRES))
    db.locked_elsewhere = set()
    free = await run_voucher_expiry(lambda: FakeUnitOfWork(db), FixedClock(EXPIRES))

    assert (busy, free) == (VoucherExpiryRun(0, 0), VoucherExpiryRun(1, 400))


async def expire_one(db: FakeDatabase, redemption_id: int, member_id: int, at: FixedClock) -> int | None:
    uow = FakeUnitOfWork(db)
    async with uow:
        given = await expire_voucher(uow, redemption_id, member_id, at.now())
        await uow.commit()
    return given


async def test_expiring_passes_over_what_is_not_due_and_gives_nothing_back_for_a_settled_redemption() -> None:
    db = FakeDatabase()
    member_id, _, redemption_id, code = await issued(db, "CRM-1")
    other_member, _, settled_redemption, _ = await issued(db, "CRM-2")
    await present(db, code)
    db.tables.redemptions[settled_redemption] = replace(
        db.tables.redemptions[settled_redemption], status=RedemptionStatus.FULFILLED
    )
    before = snapshot(db)

    used = await expire_one(db, redemption_id, member_id, FixedClock(EXPIRES))
    early = await expire_one(
        db, settled_redemption, other_member, FixedClock(EXPIRES - timedelta(microseconds=1))
    )
    unknown = await expire_one(db, 404, member_id, FixedClock(EXPIRES))

    assert (used, early, unknown) == (None, None, None)
    assert db.tables == before
    assert await expire_one(db, settled_redemption, other_member, FixedClock(EXPIRES)) == 0
    assert balance(db, other_member).available == 600
    expired = next(v for v in db.tables.vouchers.values() if v.redemption_id == settled_redemption)
    assert expired.status is VoucherStatus.EXPIRED


async def test_one_key_for_two_vouchers_is_refused_as_reused() -> None:
    db = FakeDatabase()
    *_, first_code = await issued(db, "CRM-1")
    *_, second_code = await issued(db, "CRM-2")

    await present(db, first_code, "till-1")
    reused = await raised(present(db, second_code, "till-1"))

    assert (reused.code, reused.field) == (ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    second = next(v for v in db.tables.vouchers.values() if v.status is VoucherStatus.ACTIVE)
    assert second.used_at is None
