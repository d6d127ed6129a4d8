"""The ledger verifier: silent on a ledger built through the API, and it names each kind of corruption."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from persistence.queries.ledger_check import Violation, ViolationKind, check_ledger, verify_ledger
from scripts import verify_ledger as verify_script
from tests.builders import Ids, Scenario
from tests.conftest import Backend

pytestmark = [pytest.mark.asyncio, pytest.mark.partial_ledger]


@dataclass
class Ledger:
    alice: Ids
    bob: Ids
    earned: int  # points issued by purchases
    redeemed: int
    adjusted: int  # net points added by adjustments


async def build_ledger(given: Scenario) -> Ledger:
    """Purchases, redemptions (one refused), a credit and a debit adjustment, through the API."""
    shop = await given.merchant()
    alice, bob = await given.member(), await given.member()
    coffee = await given.reward("Coffee", cost_points=100)
    mug = await given.reward("Mug", cost_points=50, stock=1)

    earned = 0
    for key, member, amount in [("a-1", alice, 12_399), ("a-2", alice, 50_000), ("b-1", bob, 2_000)]:
        result = await given.purchase(shop, member, amount_minor=amount, key=key)
        assert result["errors"] == [], result
        earned += result["purchase"]["pointsEarned"]
    zero = await given.purchase(shop, bob, amount_minor=50, key="b-zero")  # earns 0: no entry
    assert zero["purchase"]["pointsEarned"] == 0

    assert (await given.adjust(alice, 1_000, key="adj-1"))["errors"] == []
    assert (await given.adjust(alice, -100, key="adj-2", reason="CORRECTION"))["errors"] == []
    redeemed = 0
    for key, reward in [("r-1", coffee), ("r-2", coffee), ("r-3", mug)]:
        result = await given.redeem(alice, reward, key=key)
        assert result["errors"] == [], result
        redeemed += result["redemption"]["points"]
    assert (await given.redeem(alice, mug, key="r-4"))["errors"][0]["code"] == "REWARD_OUT_OF_STOCK"
    assert (await given.redeem(bob, coffee, key="r-5"))["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    return Ledger(alice, bob, earned, redeemed, adjusted=900)


@pytest.fixture
async def ledger(given: Scenario, backend: Backend) -> Ledger:
    built = await build_ledger(given)
    assert await check_ledger(backend.database.read_engine) == []
    return built


async def corrupt(backend: Backend, sql: str, **params: object) -> None:
    async with backend.database.write_engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        assert result.rowcount == 1, sql


async def scalar(backend: Backend, sql: str, **params: object) -> int:
    async with backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


def kinds(violations: list[Violation]) -> set[ViolationKind]:
    return {v.kind for v in violations}


async def test_a_ledger_built_through_the_api_has_no_violations(given: Scenario, backend: Backend) -> None:
    ledger = await build_ledger(given)

    report = await verify_ledger(backend.database.read_engine)

    assert report.violations == ()
    assert report.ok
    assert report.system_totals["ISSUANCE"] == -ledger.earned
    assert report.system_totals["REDEMPTION"] == ledger.redeemed
    assert report.system_totals["ADJUSTMENT"] == -ledger.adjusted
    assert report.system_totals["EXPIRY"] == 0
    available = ledger.earned + ledger.adjusted - ledger.redeemed
    assert report.member_totals == {
        "MEMBER_AVAILABLE": available,
        "MEMBER_PENDING": 0,
        "MEMBER_HELD": 0,
        "MEMBER_DEBT": 0,
        "MEMBER_REVIEW": 0,
    }
    assert sum(report.system_totals.values()) + available == 0
    # 2 members; entries: 3 earns + 2 adjustments + 3 redemptions; a lot per credit
    assert report.counts["member accounts"] == 2
    assert report.counts["journal entries"] == 8
    assert report.counts["journal lines"] == 16
    assert report.counts["points lots"] == 4


async def test_an_empty_ledger_has_no_violations(backend: Backend) -> None:
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_bumped_balance_is_reported(ledger: Ledger, backend: Backend) -> None:
    await corrupt(
        backend,
        "UPDATE member_balances SET available = available + 1 WHERE member_id = :m",
        m=ledger.alice.raw,
    )

    violations = await check_ledger(backend.database.read_engine)

    mismatches = [v for v in violations if v.kind is ViolationKind.BALANCE_MISMATCH]
    assert len(mismatches) == 1
    assert mismatches[0].member_id == ledger.alice.raw
    assert "available" in mismatches[0].message
    # the lots no longer add up to the stored balance either; nothing else is reported
    assert kinds(violations) == {ViolationKind.BALANCE_MISMATCH, ViolationKind.LOTS_BALANCE_MISMATCH}


async def test_an_unbalanced_entry_is_reported(ledger: Ledger, backend: Backend) -> None:
    line_id = await scalar(backend, "SELECT min(id) FROM journal_lines WHERE account_kind = 'ISSUANCE'")
    entry_id = await scalar(backend, "SELECT entry_id FROM journal_lines WHERE id = :id", id=line_id)
    await corrupt(backend, "UPDATE journal_lines SET amount = amount - 1 WHERE id = :id", id=line_id)

    violations = await check_ledger(backend.database.read_engine)

    assert kinds(violations) == {ViolationKind.ENTRY_UNBALANCED}
    assert [v.entry_id for v in violations] == [entry_id]
    assert "sum to -1" in violations[0].message


async def test_a_changed_member_line_breaks_the_entry_and_the_balance(
    ledger: Ledger, backend: Backend
) -> None:
    line_id = await scalar(
        backend,
        "SELECT min(id) FROM journal_lines WHERE account_kind = 'MEMBER_AVAILABLE' AND member_id = :m",
        m=ledger.bob.raw,
    )
    await corrupt(backend, "UPDATE journal_lines SET amount = amount + 5 WHERE id = :id", id=line_id)

    violations = await check_ledger(backend.database.read_engine)

    assert {
        ViolationKind.ENTRY_UNBALANCED,
        ViolationKind.BALANCE_MISMATCH,
        ViolationKind.LIFETIME_MISMATCH,
        ViolationKind.LOTS_ISSUED_MISMATCH,
    } <= kinds(violations)
    assert all(v.member_id in (ledger.bob.raw, None) for v in violations)


async def test_an_entry_with_one_line_is_reported(ledger: Ledger, backend: Backend) -> None:
    line_id = await scalar(backend, "SELECT min(id) FROM journal_lines WHERE account_kind = 'ADJUSTMENT'")
    entry_id = await scalar(backend, "SELECT entry_id FROM journal_lines WHERE id = :id", id=line_id)
    await corrupt(backend, "DELETE FROM journal_lines WHERE id = :id", id=line_id)

    violations = await check_ledger(backend.database.read_engine)

    too_few = [v for v in violations if v.kind is ViolationKind.ENTRY_TOO_FEW_LINES]
    assert [v.entry_id for v in too_few] == [entry_id]
    assert ViolationKind.ENTRY_UNBALANCED in kinds(violations)


async def test_a_changed_lot_is_reported(ledger: Ledger, backend: Backend) -> None:
    lot_id = await scalar(
        backend, "SELECT min(id) FROM points_lots WHERE member_id = :m AND remaining > 0", m=ledger.alice.raw
    )
    await corrupt(backend, "UPDATE points_lots SET remaining = remaining - 1 WHERE id = :id", id=lot_id)

    violations = await check_ledger(backend.database.read_engine)

    lot_violations = [v for v in violations if v.kind is ViolationKind.LOT_REMAINING_MISMATCH]
    assert [v.lot_id for v in lot_violations] == [lot_id]
    assert kinds(violations) == {ViolationKind.LOT_REMAINING_MISMATCH, ViolationKind.LOTS_BALANCE_MISMATCH}


async def test_a_missing_lot_draw_is_reported(ledger: Ledger, backend: Backend) -> None:
    draw_id = await scalar(backend, "SELECT max(id) FROM lot_draws")
    entry_id = await scalar(backend, "SELECT entry_id FROM lot_draws WHERE id = :id", id=draw_id)
    await corrupt(backend, "DELETE FROM lot_draws WHERE id = :id", id=draw_id)

    violations = await check_ledger(backend.database.read_engine)

    draws = [v for v in violations if v.kind is ViolationKind.DRAWS_MISMATCH]
    assert [v.entry_id for v in draws] == [entry_id]
    assert ViolationKind.LOT_REMAINING_MISMATCH in kinds(violations)


async def test_an_entry_without_its_origin_is_reported(ledger: Ledger, backend: Backend) -> None:
    entry_id = await scalar(backend, "SELECT min(id) FROM journal_entries WHERE origin_type = 'PURCHASE'")
    purchase_id = await scalar(backend, "SELECT origin_id FROM journal_entries WHERE id = :id", id=entry_id)
    await corrupt(backend, "UPDATE journal_entries SET origin_id = 999999 WHERE id = :id", id=entry_id)

    violations = await check_ledger(backend.database.read_engine)

    missing = [v for v in violations if v.kind is ViolationKind.ORIGIN_MISSING]
    assert [(v.entry_id, v.origin_id) for v in missing] == [(entry_id, 999_999)]
    # and the purchase it came from now has no entry
    orphans = [v for v in violations if v.kind is ViolationKind.ENTRY_MISSING]
    assert [v.origin_id for v in orphans] == [purchase_id]
    assert kinds(violations) == {ViolationKind.ORIGIN_MISSING, ViolationKind.ENTRY_MISSING}


async def test_an_origin_of_another_member_is_reported(ledger: Ledger, backend: Backend) -> None:
    bobs_purchase = await scalar(
        backend, "SELECT min(id) FROM purchases WHERE member_id = :m", m=ledger.bob.raw
    )
    entry_id = await scalar(
        backend,
        "SELECT min(id) FROM journal_entries WHERE origin_type = 'PURCHASE' AND member_id = :m",
        m=ledger.alice.raw,
    )
    await corrupt(
        backend, "UPDATE journal_entries SET origin_id = :p WHERE id = :id", p=bobs_purchase, id=entry_id
    )

    violations = await check_ledger(backend.database.read_engine)

    assert [v.entry_id for v in violations if v.kind is ViolationKind.ORIGIN_MEMBER_MISMATCH] == [entry_id]


async def test_a_wrong_lifetime_counter_is_reported(ledger: Ledger, backend: Backend) -> None:
    await corrupt(
        backend,
        "UPDATE member_balances SET lifetime_redeemed = lifetime_redeemed + 7 WHERE member_id = :m",
        m=ledger.alice.raw,
    )

    violations = await check_ledger(backend.database.read_engine)

    assert kinds(violations) == {ViolationKind.LIFETIME_MISMATCH}
    assert "lifetime_redeemed" in violations[0].message


async def test_several_corruptions_are_all_reported(ledger: Ledger, backend: Backend) -> None:
    await corrupt(backend, "UPDATE member_balances SET held = 3 WHERE member_id = :m", m=ledger.bob.raw)
    await corrupt(
        backend,
        "UPDATE journal_entries SET origin_id = 424242 WHERE id = (SELECT max(id) FROM journal_entries)",
    )

    violations = await check_ledger(backend.database.read_engine)

    assert {ViolationKind.BALANCE_MISMATCH, ViolationKind.ORIGIN_MISSING} <= kinds(violations)


async def test_the_script_exits_0_when_sound_and_1_after_corruption(
    ledger: Ledger, backend: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", backend.url)

    # main() runs its own event loop, as it does from the command line
    assert await asyncio.to_thread(verify_script.main, []) == 0
    clean = capsys.readouterr().out
    assert "OK: no violations" in clean
    assert f"ISSUANCE {-ledger.earned:>16,}".replace(" ", "") in clean.replace(" ", "")

    await corrupt(
        backend,
        "UPDATE member_balances SET available = available + 1 WHERE member_id = :m",
        m=ledger.alice.raw,
    )
    assert await asyncio.to_thread(verify_script.main, []) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    lines = out.splitlines()
    assert any(line.startswith("BALANCE_MISMATCH: member ") for line in lines)
    assert any(line.startswith("LOTS_BALANCE_MISMATCH: member ") for line in lines)
