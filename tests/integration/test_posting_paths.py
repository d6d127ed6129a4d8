"""The one posting path, on the real databases: `post_at_once` (PostgreSQL's one-statement
optimisation) writes exactly the rows that lock, `decide_posting` and `apply` write, or refuses and
leaves everything to them; `apply` writes only over the figures it decided from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.errors import InsufficientPoints, LimitReached
from domain.ledger import MAX_BALANCE, Account, AccountKind, EntryKind, JournalEntry, OriginType, transfer
from domain.lots import NewLot
from domain.posting import decide_posting
from domain.services.posting import post_entry
from persistence.repositories.ledger import RowChangedUnderLock
from persistence.tables import journal_entries, journal_lines, member_balances, points_lots
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
EXPIRES = AT + timedelta(days=730)


def earn(member_id: int, points: int, *, pending: bool = False) -> JournalEntry:
    return transfer(
        kind=EntryKind.EARN,
        member_id=member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=7,
        source=Account(AccountKind.ISSUANCE),
        destination=Account(
            AccountKind.MEMBER_PENDING if pending else AccountKind.MEMBER_AVAILABLE, member_id
        ),
        points=points,
        description="Purchase",
    )


def spend(member_id: int, points: int, *, kind: EntryKind = EntryKind.REDEEM) -> JournalEntry:
    return transfer(
        kind=kind,
        member_id=member_id,
        origin_type=OriginType.REDEMPTION,
        origin_id=9,
        source=Account.available(member_id),
        destination=(
            Account(AccountKind.MEMBER_HELD, member_id)
            if kind is EntryKind.HOLD
            else Account(AccountKind.REDEMPTION)
        ),
        points=points,
        description="Spent",
    )


def lot(member_id: int, points: int) -> NewLot:
    return NewLot(member_id, points, AT, EXPIRES)


async def twins(backend: Backend, given: Scenario, points: int) -> tuple[int, int]:
    """Two members holding the same `points`, so each path can post the same entry to one of them."""
    ids = [(await given.funded_member(points)).raw for _ in range(2)]
    # Same last activity too, so the rows compare whole.
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            member_balances.update()
            .where(member_balances.c.member_id.in_(ids))
            .values(last_activity_at=AT - timedelta(days=1), dormant_since=AT - timedelta(hours=1))
        )
    return ids[0], ids[1]


async def rows_of(work: SqlAlchemyUnitOfWork, member_id: int) -> dict[str, Any]:
    """Everything posting wrote for a member at AT, with ids and the member's own id left out; read in
    the unit of work, which the tests roll back: these bare entries have no purchase behind them."""
    conn = work.ledger.conn
    balance = (
        await conn.execute(select(member_balances).where(member_balances.c.member_id == member_id))
    ).one()
    entries = (
        await conn.execute(
            select(journal_entries)
            .where(journal_entries.c.member_id == member_id, journal_entries.c.created_at == AT)
            .order_by(journal_entries.c.id)
        )
    ).all()
    entry_ids = [e.id for e in entries]
    lines = (
        await conn.execute(
            select(journal_lines)
            .where(journal_lines.c.entry_id.in_(entry_ids))
            .order_by(journal_lines.c.entry_id, journal_lines.c.id)
        )
    ).all()
    lots = (
        await conn.execute(
            select(points_lots).where(points_lots.c.entry_id.in_(entry_ids)).order_by(points_lots.c.id)
        )
    ).all()

    def strip(row: Any, *names: str) -> dict[str, Any]:
        return {k: v for k, v in row._mapping.items() if k not in names}

    return {
        "balance": strip(balance, "member_id"),
        "entries": [strip(e, "id", "member_id") for e in entries],
        "lines": [
            {**strip(line, "id", "entry_id", "member_id"), "mine": line.member_id == member_id}
            for line in lines
        ],
        "lots": [strip(x, "id", "entry_id", "member_id") for x in lots],
    }


def uow(backend: Backend) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(backend.database.write_engine)


CASES = {
    "an earning with its lot": lambda m: (earn(m, 120), [lot(m, 120)]),
    "pending points, no lot": lambda m: (earn(m, 80, pending=True), []),
    "an earning in two lots": lambda m: (earn(m, 50), [lot(m, 20), lot(m, 30)]),
    "a redemption of every point": lambda m: (spend(m, 300), []),
    "a hold": lambda m: (spend(m, 1, kind=EntryKind.HOLD), []),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_one_statement_form_writes_what_the_general_path_writes(
    backend: Backend, given: Scenario, case: str
) -> None:
    if not backend.is_postgres:
        pytest.skip("PostgreSQL only: the one-statement form is its optimisation")
    fast, general = await twins(backend, given, 300)

    async with uow(backend) as work:
        entry, lots = CASES[case](fast)
        assert await work.ledger.post_at_once(entry, AT, lots) is not None
        entry, lots = CASES[case](general)
        decision = decide_posting(entry, lots, await work.ledger.lock_balances([general]))
        await work.ledger.apply(decision, AT)

        assert await rows_of(work, fast) == await rows_of(work, general)


REFUSED = {
    "more points than available": (lambda m: (spend(m, 301), []), InsufficientPoints),
    "past the balance limit": (
        lambda m: (earn(m, MAX_BALANCE - 299), [lot(m, MAX_BALANCE - 299)]),
        LimitReached,
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_what_the_one_statement_form_refuses_it_leaves_unwritten_and_the_decision_refuses(
    backend: Backend, given: Scenario, case: str
) -> None:
    if not backend.is_postgres:
        pytest.skip("PostgreSQL only: the one-statement form is its optimisation")
    member, _ = await twins(backend, given, 300)
    make, error = REFUSED[case]

    async with uow(backend) as work:
        before = await rows_of(work, member)
        entry, lots = make(member)
        assert await work.ledger.post_at_once(entry, AT, lots) is None
        with pytest.raises(error):
            await post_entry(work, entry, AT, lots)

        assert await rows_of(work, member) == before


async def test_a_credit_to_a_member_who_owes_points_takes_the_general_path_and_repays_first(
    backend: Backend, given: Scenario
) -> None:
    member = (await given.member()).raw

    async with uow(backend) as work:
        await work.ledger.conn.execute(
            member_balances.update().where(member_balances.c.member_id == member).values(debt=70)
        )
        if backend.is_postgres:
            assert await work.ledger.post_at_once(earn(member, 100), AT, [lot(member, 100)]) is None
        await post_entry(work, earn(member, 100), AT, [lot(member, 100)])
        written = await rows_of(work, member)

    assert (written["balance"]["available"], written["balance"]["debt"]) == (30, 0)
    assert written["balance"]["lifetime_earned"] == 100
    assert [(line["account_kind"], line["amount"]) for line in written["lines"]] == [
        ("ISSUANCE", -100),
        ("MEMBER_AVAILABLE", 30),
        ("MEMBER_DEBT", 70),
    ]
    assert [x["points"] for x in written["lots"]] == [30]


async def test_apply_writes_only_over_the_figures_it_decided_from(backend: Backend, given: Scenario) -> None:
    member, _ = await twins(backend, given, 300)
    async with uow(backend) as work:
        before = await rows_of(work, member)
        decision = decide_posting(spend(member, 100), [], await work.ledger.lock_balances([member]))
        await work.ledger.apply(
            decide_posting(spend(member, 10), [], await work.ledger.lock_balances([member])), AT
        )
        with pytest.raises(RowChangedUnderLock):
            await work.ledger.apply(decision, AT)

        # The first posting stands; the stale one wrote nothing.
        assert (await rows_of(work, member))["balance"] == {
            **before["balance"],
            "available": 290,
            "lifetime_redeemed": 10,
            "last_activity_at": AT,
            "dormant_since": None,
        }
