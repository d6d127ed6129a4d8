"""The settlement import (its batch use case and the file importer), on both databases: the same
points and rows as postPurchase, idempotent per (merchant, reference), bad lines reported and
skipped, the ledger verified."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.actors import Actor, Role
from domain.clock import SystemClock
from domain.errors import NotFound
from domain.merchants import Channel
from domain.money import Money
from domain.services.settlement import import_settlement_batch
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.import_purchases import ImportSummary, import_file
from tests.builders import Ids, Scenario
from tests.conftest import Backend

# Recent, whenever the suite runs: purchases may be dated at most 90 days back.
WHEN = (datetime.now(UTC) - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)


def line(
    n: int, reference: str, member: str, minor: int, currency: str = "CNY", channel: Channel | None = None
) -> SettlementLine:
    return SettlementLine(n, reference, member, Money(minor, currency), WHEN, channel)


async def run(backend: Backend, merchant: Ids, lines: list[SettlementLine]) -> BatchOutcome:
    return await import_settlement_batch(
        lines,
        actor=Actor(role=Role.MERCHANT, subject="import", merchant_id=merchant.raw),
        uow=SqlAlchemyUnitOfWork(backend.database.write_engine),
        clock=SystemClock(),
    )


async def scalar(backend: Backend, sql: str, **params: object) -> int:
    async with backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_a_batch_earns_what_post_purchase_would_and_a_rerun_adds_nothing(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    alice = await given.member("alice")
    bob = await given.member("bob")
    # The file names members by the references their links to the merchant gave it.
    a, b = await given.member_ref(merchant, alice), await given.member_ref(merchant, bob)
    lines = [
        line(2, "S-1", a, 12_345),  # CNY 123.45 -> 123 points
        line(3, "S-2", b.lower(), 999),  # 9 points; case does not matter
        line(4, "S-3", a, 50_000, "USD"),  # USD 500.00 at 7 a dollar -> 3,500 points
    ]

    first = await run(backend, merchant, lines)
    again = await run(backend, merchant, lines)

    assert first == BatchOutcome(posted=3, duplicates=0, rejected=(), points=123 + 9 + 3_500)
    assert again == BatchOutcome(posted=0, duplicates=3, rejected=(), points=0)
    assert (await given.balance(alice))["available"] == 123 + 3_500
    assert (await given.balance(bob))["available"] == 9
    assert await scalar(backend, "SELECT count(*) FROM purchases") == 3
    assert await scalar(backend, "SELECT count(*) FROM points_lots") == 3
    # The same points a purchase over the API earns for the same amount.
    over_api = await given.purchase(merchant, bob, 12_345, key="api-1")
    assert over_api["purchase"]["pointsEarned"] == 123
    assert await check_ledger(backend.database.read_engine) == []


async def test_bad_lines_are_reported_by_line_number_and_the_rest_is_posted(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant(channel="OFFLINE")
    alice = await given.member("alice")
    locked = await given.member("locked")
    unlinked = await given.member("unlinked")
    other_shop = await given.merchant("Elsewhere")
    a, lk = await given.member_ref(merchant, alice), await given.member_ref(merchant, locked)
    elsewhere = await given.member_ref(other_shop, unlinked)  # another merchant's reference
    await given.gql.data(
        "mutation($i: LockMemberInput!) { lockMember(input: $i) { errors { code } } }",
        {"i": {"memberId": locked.gid, "reason": "fraud review"}},
        given.admin,
    )

    outcome = await run(
        backend,
        merchant,
        [
            line(2, "S-1", a, 1_000),
            line(3, "S-2", "nobody", 1_000),
            line(4, "S-3", lk, 1_000),
            line(5, "S-4", a, 1_000, "EUR"),
            line(6, "S-5", a, 1_000, channel=Channel.ONLINE),
            line(7, "S-1", a, 2_000),  # the same reference with another amount
            line(8, "S-6", a, 2_000),
            line(9, "S-7", elsewhere, 1_000),
            line(10, "S-8", "alice", 1_000),  # an externalRef is no reference
        ],
    )

    assert outcome.posted == 2
    assert outcome.points == 10 + 20
    assert [bad.line_no for bad in outcome.rejected] == [3, 4, 5, 6, 7, 9, 10]
    not_linked = "member: no member linked to this merchant has this reference"
    assert [outcome.rejected[i] for i in (0, 5, 6)] == [
        BadLine(3, not_linked),
        BadLine(9, not_linked),
        BadLine(10, not_linked),
    ]
    assert outcome.rejected[1] == BadLine(4, "member: member is locked")
    assert outcome.rejected[4] == BadLine(7, "reference: already imported with different details")
    assert (await given.balance(alice))["available"] == 30
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_line_dated_too_far_back_or_ahead_is_refused(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant(channel="OFFLINE")
    alice = await given.member("alice")
    a = await given.member_ref(merchant, alice)
    now = datetime.now(UTC)
    dated = [datetime(1, 1, 1, tzinfo=UTC), now - timedelta(days=91), now + timedelta(minutes=10), WHEN]

    outcome = await run(
        backend,
        merchant,
        [replace(line(n, f"S-{n}", a, 1_000), occurred_at=at) for n, at in enumerate(dated, start=2)],
    )

    assert (outcome.posted, outcome.points) == (1, 10)
    assert [bad.line_no for bad in outcome.rejected] == [2, 3, 4]
    assert {bad.message.split(":")[0] for bad in outcome.rejected} == {"time"}
    assert (await given.balance(alice))["lifetimeEarned"] == 10


async def test_a_line_that_would_overflow_a_balance_is_refused_and_can_be_retried(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    rich = await given.funded_member(2_147_483_000)
    ref = await given.member_ref(merchant, rich)

    outcome = await run(backend, merchant, [line(2, "S-1", ref, 100_000), line(3, "S-2", ref, 10_000)])

    assert outcome.posted == 1  # S-2's 100 points fit; S-1's 1,000 would not
    assert [bad.line_no for bad in outcome.rejected] == [2]
    assert outcome.rejected[0].message.startswith("amount: a member's balance cannot exceed")
    assert (await given.balance(rich))["available"] == 2_147_483_100
    # The refused line left no claim behind: corrected and re-run, it posts.
    retry = await run(backend, merchant, [line(2, "S-1", ref, 10_000), line(3, "S-2", ref, 10_000)])
    assert (retry.posted, retry.duplicates, retry.rejected) == (1, 1, ())
    assert (await given.balance(rich))["available"] == 2_147_483_200
    assert await check_ledger(backend.database.read_engine) == []


async def test_an_unknown_merchant_refuses_the_whole_batch(backend: Backend, given: Scenario) -> None:
    await given.member("alice")
    with pytest.raises(NotFound):
        await run(backend, Ids("TWVyY2hhbnQ6OTk5OQ=="), [line(2, "S-1", "alice", 1_000)])  # Merchant:9999
    assert await scalar(backend, "SELECT count(*) FROM purchases") == 0


async def test_a_settlement_file_is_posted_in_batches_and_a_second_run_adds_nothing(
    backend: Backend, given: Scenario, tmp_path: Path
) -> None:
    merchant = await given.merchant()
    members = [await given.member(f"m-{i}") for i in range(3)]
    refs = [await given.member_ref(merchant, m) for m in members]
    path = tmp_path / "settlement.jsonl"
    rows = [
        json.dumps(
            {
                "reference": f"R-{i}",
                "member": refs[i % 3],
                "amount": "10.00",
                "currency": "CNY",
                "time": WHEN.isoformat(),
            }
        )
        for i in range(7)
    ]
    rows.insert(3, json.dumps({"reference": "R-bad", "member": refs[0], "amount": "-1", "currency": "CNY"}))
    path.write_text("\n".join(rows) + "\n")

    async def run_file() -> ImportSummary:
        return await import_file(
            path,
            merchant_id=merchant.raw,
            fmt="jsonl",
            batch_size=3,
            uow_factory=lambda: SqlAlchemyUnitOfWork(backend.database.write_engine),
            clock=SystemClock(),
            progress=False,
        )

    first = await run_file()
    second = await run_file()

    assert (first.posted, first.duplicates, first.points, first.lines) == (7, 0, 70, 8)
    assert [bad.line_no for bad in first.bad_lines] == [4]
    assert (second.posted, second.duplicates, second.points) == (0, 7, 0)
    assert [(await given.balance(m))["available"] for m in members] == [30, 20, 20]
    assert await check_ledger(backend.database.read_engine) == []
