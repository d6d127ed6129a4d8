"""A redeemed reward's voucher: shown to its member only, redeemed once by a merchant (the
redemption becomes FULFILLED), refused once expired, voided by a cancellation; an expired voucher's
points come back through the voucher-expiry job. Wrong codes count toward the guessing lockout. On
both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.clock import FixedClock
from domain.services.vouchers import run_voucher_expiry
from persistence.queries.ledger_check import check_ledger
from persistence.tables import audit_log, vouchers
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend
from tests.integration.test_rate_limits import GUESSING, Store, limited, post
from tests.pos_steps import Pos, execute, scalar
from tests.voucher_steps import (
    REDEEM_REWARD,
    REDEEM_VOUCHER,
    REDEMPTION,
    redeem_voucher,
    restore_wallet_settings,
    voucher_for,
)


@pytest.fixture(autouse=True)
async def wallet_settings(backend: Backend) -> AsyncIterator[None]:
    yield
    await restore_wallet_settings(backend)


async def test_the_member_sees_its_voucher_once_and_a_merchant_redeems_it_once(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(500)
    reward = await given.reward("Mug", cost_points=100, stock=5)
    shop = await given.merchant("Tea House")
    redemption, code = await voucher_for(given, member, reward, "r1")
    replay = await given.gql.data(
        REDEEM_REWARD,
        {"input": {"rewardId": reward.gid, "idempotencyKey": "r1"}},
        given.tokens.member(member.raw),
    )
    seen_by_member = await given.gql.data(REDEMPTION, {"id": redemption}, given.tokens.member(member.raw))
    seen_by_admin = await given.gql.data(REDEMPTION, {"id": redemption}, given.admin)

    used = await redeem_voucher(given, shop, code.lower(), "v1")
    retried = await redeem_voucher(given, shop, code, "v1")
    again = await redeem_voucher(given, shop, code, "v2")

    assert len(code) == 16
    assert code.isalnum()
    # A replayed answer stores no code; the member's wallet reads it on the redemption, as often as it
    # needs to show it; nobody else reads it, admins included.
    assert replay["redeemReward"]["redemption"]["voucher"]["code"] is None
    assert replay["redeemReward"]["redemption"]["voucher"]["status"] == "ACTIVE"
    assert seen_by_member["node"]["voucher"] == {"code": code, "status": "ACTIVE"}
    assert seen_by_admin["node"]["voucher"] == {"code": None, "status": "ACTIVE"}
    async with backend.database.read_engine.connect() as conn:
        stored = (await conn.execute(select(vouchers.c.code_sealed))).scalars().all()
    assert len(stored) == 1
    assert code not in str(stored[0])  # kept sealed, never in the clear
    assert used["errors"] == []
    assert (used["voucher"]["status"], used["voucher"]["code"], used["reward"]) == (
        "USED",
        None,
        {"name": "Mug"},
    )
    assert retried == used
    assert again["errors"] == [
        {
            "code": "ALREADY_FINALIZED",
            "field": ["code"],
            "message": "this voucher was already used",
            "retryAfter": None,
        }
    ]
    after = await given.gql.data(REDEMPTION, {"id": redemption}, given.tokens.member(member.raw))
    assert after["node"] == {"status": "FULFILLED", "voucher": {"code": None, "status": "USED"}}
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"]) == (400, 100)
    assert await Pos(given).stock(reward) == 4
    async with backend.database.read_engine.connect() as conn:
        stored = (await conn.execute(select(vouchers))).one()
        audited = (await conn.execute(select(audit_log).where(audit_log.c.action == "redeemVoucher"))).all()
    assert code not in str(tuple(stored))
    assert stored.merchant_id == shop.raw
    assert [(row.actor, row.after["status"]) for row in audited] == [(f"pos-{shop.raw}", "FULFILLED")]
    assert await check_ledger(backend.database.read_engine) == []


async def test_an_expired_voucher_is_refused_and_the_job_gives_its_points_and_stock_back(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(500)
    reward = await given.reward("Mug", cost_points=120, stock=3)
    shop = await given.merchant()
    redemption, code = await voucher_for(given, member, reward, "r1")
    await execute(
        backend, "UPDATE vouchers SET expires_at = :at", at=datetime.now(UTC) - timedelta(seconds=1)
    )
    spent = await given.balance(member)

    refused = await redeem_voucher(given, shop, code, "v1")
    uow_factory = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731
    run = await run_voucher_expiry(uow_factory, FixedClock(datetime.now(UTC)))
    second = await run_voucher_expiry(uow_factory, FixedClock(datetime.now(UTC)))
    after_job = await redeem_voucher(given, shop, code, "v2")

    assert (spent["available"], spent["lifetimeRedeemed"]) == (380, 120)
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("EXPIRED", ["code"])
    assert (run.vouchers, run.points) == (1, 120)
    assert (second.vouchers, second.points) == (0, 0)
    assert after_job["errors"][0]["code"] == "EXPIRED"
    shown = await given.gql.data(REDEMPTION, {"id": redemption}, given.tokens.member(member.raw))
    assert shown["node"] == {"status": "CANCELLED", "voucher": {"code": None, "status": "EXPIRED"}}
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"]) == (500, 0)
    assert await Pos(given).stock(reward) == 3
    assert await check_ledger(backend.database.read_engine) == []


async def test_cancelling_the_redemption_voids_its_voucher(given: Scenario, backend: Backend) -> None:
    member = await given.funded_member(300)
    reward = await given.reward("Mug", cost_points=100)
    shop = await given.merchant()
    redemption, code = await voucher_for(given, member, reward, "r1")

    cancelled = await Pos(given).cancel(redemption, "c1")
    refused = await redeem_voucher(given, shop, code, "v1")

    assert cancelled["errors"] == []
    assert refused["errors"][0]["code"] == "ALREADY_FINALIZED"
    assert await scalar(backend, "SELECT status FROM vouchers") == "VOID"
    assert (await given.balance(member))["available"] == 300
    assert await check_ledger(backend.database.read_engine) == []


async def test_wrong_voucher_codes_lock_the_merchant_out_even_for_the_right_code(
    backend: Backend, given: Scenario
) -> None:
    member = await given.funded_member(300)
    reward = await given.reward("Mug", cost_points=100)
    shop = await given.merchant()
    _, code = await voucher_for(given, member, reward, "r1")
    token = given.tokens.merchant(shop.raw)

    async with limited(backend, Store(None, ""), **GUESSING) as http:
        wrong = [
            (
                await post(http, REDEEM_VOUCHER, token, {"input": {"code": c, "idempotencyKey": f"w{i}"}})
            ).json()
            for i, c in enumerate(["ABCDEFGHJKMNPQRS", "not a code", "ABCDEFGHJKMNPQRT"])
        ]
        locked = (
            await post(http, REDEEM_VOUCHER, token, {"input": {"code": code, "idempotencyKey": "x"}})
        ).json()

    codes = [w["data"]["redeemVoucher"]["errors"][0]["code"] for w in wrong]
    assert codes == ["NOT_FOUND", "VALIDATION", "NOT_FOUND"]
    [error] = locked["data"]["redeemVoucher"]["errors"]
    assert (error["code"], error["field"]) == ("TOO_MANY_ATTEMPTS", ["code"])
    assert await scalar(backend, "SELECT status FROM vouchers") == "ACTIVE"  # nothing was looked up


async def test_only_a_merchant_redeems_vouchers(given: Scenario) -> None:
    member = await given.funded_member(300)
    reward = await given.reward("Mug", cost_points=100)
    _, code = await voucher_for(given, member, reward, "r1")

    body = await given.gql.post(
        REDEEM_VOUCHER, {"input": {"code": code, "idempotencyKey": "m1"}}, given.tokens.member(member.raw)
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


UPDATE_PROGRAMME = """mutation($input: UpdateProgrammeInput!) {
  updateProgramme(input: $input) {
    programme { voucherValidDays closurePolicy closureGraceDays } errors { code field message }
  }
}"""


async def test_an_admin_sets_the_voucher_validity_and_fulfilling_without_the_voucher_voids_it(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(300)
    reward = await given.reward("Mug", cost_points=100)
    shop = await given.merchant()

    bad = await given.gql.data(UPDATE_PROGRAMME, {"input": {"voucherValidDays": 0}}, given.admin)
    changed = await given.gql.data(
        UPDATE_PROGRAMME, {"input": {"voucherValidDays": 7, "closurePolicy": "KEEP"}}, given.admin
    )
    redemption, code = await voucher_for(given, member, reward, "r1")
    shown = await given.gql.data(
        "query($id: ID!) { node(id: $id) { ... on Redemption { voucher { expiresAt } } } }",
        {"id": redemption},
        given.tokens.member(member.raw),
    )
    fulfilled = await Pos(given).fulfil(redemption)
    refused = await redeem_voucher(given, shop, code, "v1")

    assert bad["updateProgramme"]["errors"][0]["field"] == ["voucherValidDays"]
    assert changed["updateProgramme"]["programme"] == {
        "voucherValidDays": 7,
        "closurePolicy": "KEEP",
        "closureGraceDays": 30,
    }
    valid_for = datetime.fromisoformat(shown["node"]["voucher"]["expiresAt"]) - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < valid_for <= timedelta(days=7)
    assert fulfilled["errors"] == []
    assert (
        refused["errors"][0]["message"] == "this voucher is void: its redemption was cancelled or fulfilled"
    )
    assert await scalar(backend, "SELECT status FROM vouchers") == "VOID"
