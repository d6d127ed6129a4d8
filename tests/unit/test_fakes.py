"""The fakes must behave like the real unit of work and ledger, or the service tests prove nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InsufficientPoints
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting, transfer
from domain.members import Balance, Contact, Profile
from domain.posting import UnlockedMember
from domain.services.posting import post_entry
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

AT = datetime(2024, 1, 1, tzinfo=UTC)


async def add_member(uow: FakeUnitOfWork, ref: str) -> int:
    member = await uow.members.add(
        external_ref=ref, profile=Profile(), contact=Contact(), referral_code=ref, referred_by=None, at=AT
    )
    return member.id


def earn(member_id: int, points: int) -> JournalEntry:
    return transfer(
        kind=EntryKind.EARN,
        member_id=member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=1,
        source=Account(AccountKind.ISSUANCE),
        destination=Account.available(member_id),
        points=points,
        description="earn",
    )


async def test_a_block_that_does_not_commit_is_rolled_back() -> None:
    uow = FakeUnitOfWork()

    async with uow:
        await add_member(uow, "A")

    assert uow.db.tables.members == {}
    assert uow.commits == 0


async def test_a_block_left_by_an_exception_is_rolled_back() -> None:
    uow = FakeUnitOfWork()

    async def fail_inside() -> None:
        async with uow:
            await add_member(uow, "A")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_inside()

    assert uow.db.tables.members == {}


async def test_the_unit_of_work_is_re_enterable_and_keeps_what_was_committed() -> None:
    uow = FakeUnitOfWork()

    async with uow:
        await add_member(uow, "A")
        await uow.commit()
        await add_member(uow, "B")  # after the commit: a new transaction, never committed
    async with uow:
        await add_member(uow, "C")
        await uow.commit()

    assert [m.external_ref for m in uow.db.tables.members.values()] == ["A", "C"]
    assert uow.commits == 2
    assert uow.committed


async def test_two_units_of_work_over_one_database_see_each_others_commits() -> None:
    db = FakeDatabase()
    writer, reader = FakeUnitOfWork(db), FakeUnitOfWork(db)
    async with writer:
        member_id = await add_member(writer, "A")
        await writer.commit()

    async with reader:
        assert await reader.members.get(member_id) is not None


async def test_posting_applies_member_deltas_and_lifetime_counters() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        member_id = await add_member(uow, "A")
        first = await post_entry(uow, earn(member_id, 100), AT)
        second = await post_entry(
            uow,
            transfer(
                kind=EntryKind.REDEEM,
                member_id=member_id,
                origin_type=OriginType.REDEMPTION,
                origin_id=1,
                source=Account.available(member_id),
                destination=Account(AccountKind.REDEMPTION),
                points=30,
                description="redeem",
            ),
            AT,
        )
        await uow.commit()

    assert first != second
    assert list(uow.db.tables.journal) == [first, second]
    assert await uow.ledger.balance(member_id) == Balance(member_id, 70, 0, 0, 100, 30)


async def test_posting_that_would_take_any_member_account_below_zero_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        rich = await add_member(uow, "A")
        poor = await add_member(uow, "B")
        await post_entry(uow, earn(rich, 100), AT)
        await post_entry(uow, earn(poor, 10), AT)
        await uow.commit()
    before = (dict(uow.db.tables.balances), dict(uow.db.tables.journal))

    # an entry that is fine for the first member but takes the second one's held account below zero
    entry = JournalEntry(
        kind=EntryKind.REDEEM,
        member_id=rich,
        origin_type=OriginType.REDEMPTION,
        origin_id=1,
        description="two members",
        postings=(
            Posting(Account.available(rich), -50),
            Posting(Account(AccountKind.MEMBER_HELD, poor), -1),
            Posting(Account(AccountKind.REDEMPTION), 51),
        ),
    )
    async with uow:
        with pytest.raises(InsufficientPoints):
            await post_entry(uow, entry, AT)
        # refused inside the transaction: nothing was applied, even before the rollback
        assert (dict(uow.db.tables.balances), dict(uow.db.tables.journal)) == before


async def test_posting_to_a_member_without_a_balance_row_is_a_programming_error() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        with pytest.raises(UnlockedMember):
            await post_entry(uow, earn(42, 10), AT)
        assert uow.db.tables.journal == {}


async def test_a_stored_idempotency_response_is_a_json_round_trip() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        assert (
            await uow.idempotency.record("merchant:1", "k", "h1", {"error": {"field": ("a", "b")}}, AT)
            is None
        )
        await uow.commit()
    async with uow:
        stored = await uow.idempotency.record("merchant:1", "k", "h2", {"result": {}}, AT)

    assert stored is not None
    assert (stored.request_hash, stored.response) == ("h1", {"error": {"field": ["a", "b"]}})
