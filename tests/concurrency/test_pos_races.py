"""PostgreSQL: a POS hold resolves exactly once however many captures, voids and jobs race for it;
a one-time code works once; a per-member limit is exact under racing redemptions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.services.holds import run_hold_release
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import raw_id
from tests.concurrency.conftest import OK, REDEEM, Arena, outcomes
from tests.pos_steps import AUTHORIZE, CAPTURE, VOID, Pos

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]


async def test_10_captures_and_10_voids_racing_on_one_hold_exactly_one_wins(pg_arena: Arena) -> None:
    given = pg_arena.given
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.funded_member(1_000)
    token = pg_arena.tokens.merchant(merchant.raw)
    winners = []
    for round_ in range(3):
        hold = await pos.hold(merchant, member, 100, key=f"hold-{round_}")
        captures = [
            (
                CAPTURE,
                {"input": {"redemptionId": hold, "points": 40, "idempotencyKey": f"c-{round_}-{i}"}},
                token,
            )
            for i in range(10)
        ]
        voids = [
            (VOID, {"input": {"redemptionId": hold, "idempotencyKey": f"v-{round_}-{i}"}}, token)
            for i in range(10)
        ]
        requests = [r for pair in zip(captures, voids, strict=True) for r in pair]

        replies = await pg_arena.fire(requests)

        fields = ["captureRedemption" if query is CAPTURE else "voidRedemption" for query, _, _ in requests]
        results = [reply.outcome(field) for reply, field in zip(replies, fields, strict=True)]
        assert sorted(results) == ["ALREADY_FINALIZED"] * 19 + [OK], results
        winner = fields[results.index(OK)]
        winners.append(winner)
        status = await pg_arena.scalar(
            "SELECT count(*) FROM redemptions WHERE id = :id AND status = :s",
            id=raw_id(hold),
            s="CAPTURED" if winner == "captureRedemption" else "VOIDED",
        )
        assert status == 1
        assert await pg_arena.scalar(
            "SELECT count(*) FROM journal_entries WHERE origin_id = :id AND kind IN ('REDEEM', 'RELEASE')",
            id=raw_id(hold),
        ) == (2 if winner == "captureRedemption" else 1)

    spent = 40 * winners.count("captureRedemption")
    balance = await given.balance(member)
    assert (balance["available"], balance["held"], balance["lifetimeRedeemed"]) == (1_000 - spent, 0, spent)
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_one_code_presented_10_times_at_once_authorizes_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.funded_member(1_000)
    code = await pos.code(member)
    token = pg_arena.tokens.merchant(merchant.raw)

    replies = await pg_arena.fire(
        [
            (AUTHORIZE, {"input": {"code": code, "points": 100, "idempotencyKey": f"a-{i}"}}, token)
            for i in range(10)
        ]
    )

    assert outcomes(replies, "authorizeRedemption") == {OK: 1, "VALIDATION": 9}
    balance = await given.balance(member)
    assert (balance["available"], balance["held"]) == (900, 100)
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_two_hold_release_jobs_at_once_release_each_hold_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    pos = Pos(given)
    merchant = await given.merchant()
    reward = await given.reward("Mug", cost_points=25, stock=100)
    members = [await given.funded_member(1_000) for _ in range(15)]
    holds = 0
    for i, member in enumerate(members):
        for j in range(1 + i % 3):  # one to three holds per member
            await pos.hold(merchant, member, 10 * (j + 1), key=f"h-{i}-{j}")
            holds += 1
        authorized = await pos.authorize(merchant, await pos.code(member), f"r-{i}", reward=reward)
        assert authorized["errors"] == []
        holds += 1
    held = await pg_arena.scalar("SELECT sum(held) FROM member_balances")
    database = pg_arena.backend.database
    later = FixedClock(datetime.now(UTC) + timedelta(hours=1))

    runs = await asyncio.gather(
        *(run_hold_release(lambda: SqlAlchemyUnitOfWork(database.write_engine), later) for _ in range(2))
    )

    assert sum(run.holds for run in runs) == holds
    assert sum(run.points for run in runs) == held
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions WHERE status = 'EXPIRED'") == holds
    assert await pg_arena.scalar("SELECT count(*) FROM journal_entries WHERE kind = 'RELEASE'") == holds
    assert await pg_arena.scalar("SELECT sum(held) FROM member_balances") == 0
    assert await pg_arena.scalar("SELECT sum(available) FROM member_balances") == 15 * 1_000
    assert await pg_arena.scalar("SELECT stock FROM rewards WHERE id = :id", id=reward.raw) == 100
    assert await check_ledger(database.read_engine) == []


async def test_a_reward_limited_to_3_per_member_raced_10_times_is_redeemed_3_times(pg_arena: Arena) -> None:
    given = pg_arena.given
    pos = Pos(given)
    member = await given.funded_member(10_000)
    reward = await pos.reward(name="Lunch", costPoints=100, perMemberLimit=3, limitPeriod="DAY")
    token = pg_arena.tokens.member(member.raw)

    replies = await pg_arena.fire(
        [(REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": f"r-{i}"}}, token) for i in range(10)]
    )

    assert outcomes(replies, "redeemReward") == {OK: 3, "LIMIT_REACHED": 7}
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"]) == (9_700, 300)
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions") == 3
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_a_limit_is_shared_by_the_wallet_and_the_pos_under_a_race(pg_arena: Arena) -> None:
    given = pg_arena.given
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.funded_member(10_000)
    reward = await pos.reward(name="Lunch", costPoints=100, perMemberLimit=4)
    codes = [await pos.code(member) for _ in range(6)]
    wallet = pg_arena.tokens.member(member.raw)
    till = pg_arena.tokens.merchant(merchant.raw)
    requests = [
        (REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": f"r-{i}"}}, wallet) for i in range(6)
    ]
    requests += [
        (AUTHORIZE, {"input": {"code": code, "rewardId": reward.gid, "idempotencyKey": f"a-{i}"}}, till)
        for i, code in enumerate(codes)
    ]

    replies = await pg_arena.fire(requests)

    results = [
        reply.outcome("redeemReward" if query is REDEEM else "authorizeRedemption")
        for reply, (query, _, _) in zip(replies, requests, strict=True)
    ]
    assert sorted(results) == ["LIMIT_REACHED"] * 8 + [OK] * 4, results
    balance = await given.balance(member)
    assert balance["available"] + balance["held"] == 10_000 - balance["lifetimeRedeemed"]
    assert balance["available"] == 9_600
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions") == 4
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
