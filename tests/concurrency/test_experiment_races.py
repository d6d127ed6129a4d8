"""PostgreSQL: many concurrent purchases by one member, the first ones of a new experiment, record its
arm exactly once, none of them fails, and each is awarded its variant's exact points."""

from __future__ import annotations

import pytest

from tests.builders import POST_PURCHASE
from tests.concurrency.conftest import Arena
from tests.integration.test_experiments import LISTED, set_experiment, trial

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

RACERS = 24


async def test_concurrent_earns_by_one_member_in_a_new_experiment_record_one_assignment(
    pg_arena: Arena,
) -> None:
    given = pg_arena.given
    t = await trial(given, members=1)
    eight = [{"key": "eight", "weight": 1, "percent": "8"}]
    body = await set_experiment(given, t.offer.gid, {"holdoutShare": 0, "variants": eight}, given.admin)
    assert body["data"]["setOfferExperiment"]["errors"] == [], body
    [member] = t.members
    ref = await given.member_ref(t.merchant, member)
    purchase = [
        (
            POST_PURCHASE,
            {
                "input": {
                    "memberRef": ref,
                    "amount": {"amountMinor": 10_000, "currency": "CNY"},
                    "idempotencyKey": f"race-{i}",
                }
            },
            given.tokens.merchant(t.merchant.raw),
        )
        for i in range(RACERS)
    ]
    listing = [(LISTED, {}, given.tokens.member(member.raw)) for _ in range(RACERS // 4)]
    replies = await pg_arena.fire([*purchase, *listing])
    earned = [r.body["data"]["postPurchase"] for r in replies[:RACERS]]
    assert [p["errors"] for p in earned] == [[]] * RACERS
    assert {p["purchase"]["pointsEarned"] for p in earned} == {108}  # 100 base + 8% of 100.00 as points
    assert all("errors" not in r.body for r in replies[RACERS:])
    assert (
        await pg_arena.scalar(
            "SELECT count(*) FROM experiment_assignments WHERE offer_id = :o AND member_id = :m",
            o=t.offer.raw,
            m=member.raw,
        )
        == 1
    )
    assert (
        await pg_arena.scalar(
            "SELECT available + pending + under_review FROM member_balances WHERE member_id = :m",
            m=member.raw,
        )
        == 108 * RACERS
    )
