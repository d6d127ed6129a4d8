"""A merchant's settlement batch over the fakes: the lines that pass are posted as purchases in one
transaction, each reference once; the others are reported, and leave nothing behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.ledger import MAX_BALANCE, Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import Balance, MemberStatus
from domain.merchants import Channel
from domain.money import Money
from domain.services.settlement import import_settlement_batch
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from domain.tiers import Tier
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork, linked
from tests.unit.test_services import balance, given_member, given_merchant, lots_of, merchant_actor, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def line(
    n: int, reference: str, member: str, minor: int, currency: str = "CNY", at: datetime = YESTERDAY
) -> SettlementLine:
    return SettlementLine(n, reference, member, Money(minor, currency), at, None)


async def settle(
    db: FakeDatabase, clock: FixedClock, merchant_id: int, *lines: SettlementLine
) -> BatchOutcome:
    """The lines name members by externalRef here; the file names them by the reference of their
    link to the merchant (made now where none stands)."""
    refs = {m.external_ref: linked(db, merchant_id, m.id).ref for m in db.tables.members.values()}
    named = [replace(line, member_ref=refs.get(line.member_ref) or line.member_ref) for line in lines]
    return await import_settlement_batch(
        named, actor=merchant_actor(merchant_id), uow=FakeUnitOfWork(db), clock=clock
    )


async def test_each_good_line_becomes_a_purchase_with_its_earn_entry_and_lot(clock: FixedClock) -> None:
    db = FakeDatabase()
    li = await given_member(db, "CRM-1")
    wang = await given_member(db, "CRM-2")
    merchant = await given_merchant(db)

    outcome = await settle(
        db,
        clock,
        merchant.id,
        line(2, "S-1", "CRM-1", 12_345),
        line(3, "S-2", "CRM-2", 999),
        line(4, "S-3", "CRM-1", 50),  # 0.50 earns nothing: a purchase without an entry
    )

    assert outcome == BatchOutcome(posted=3, duplicates=0, rejected=(), points=123 + 9)
    assert [p.points_pending for p in db.tables.purchases.values()] == [0, 0, 0]
    assert {t.matures_at for t in db.tables.purchase_terms.values()} == {None}
    assert [
        (p.member_id, p.amount, p.points_earned, p.reference, p.occurred_at, p.channel)
        for p in db.tables.purchases.values()
    ] == [
        (li.id, Money(12_345, "CNY"), 123, "S-1", YESTERDAY, Channel.OFFLINE),
        (wang.id, Money(999, "CNY"), 9, "S-2", YESTERDAY, Channel.OFFLINE),
        (li.id, Money(50, "CNY"), 0, "S-3", YESTERDAY, Channel.OFFLINE),
    ]
    earns = [p.entry for p in db.tables.journal.values()]
    assert [(e.kind, e.origin_type, e.member_id) for e in earns] == [
        (EntryKind.EARN, OriginType.PURCHASE, li.id),
        (EntryKind.EARN, OriginType.PURCHASE, wang.id),
    ]
    assert earns[0].postings == (
        Posting(Account(AccountKind.ISSUANCE), -123),
        Posting(Account.available(li.id), 123),
    )
    assert balance(db, li.id) == Balance(li.id, 123, 0, 0, 123, 0)
    assert balance(db, wang.id) == Balance(wang.id, 9, 0, 0, 9, 0)
    assert [(lot.points, lot.earned_at, lot.expires_at) for lot in lots_of(db, li.id)] == [
        (123, NOW, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ]
    assert set(db.tables.idempotency) == {
        (f"merchant:{merchant.id}:settlement", ref) for ref in ("S-1", "S-2", "S-3")
    }


async def test_running_the_same_file_again_adds_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    lines = (line(2, "S-1", "CRM-1", 10_000), line(3, "S-2", "CRM-1", 5_000))
    await settle(db, clock, merchant.id, *lines)
    before = (dict(db.tables.purchases), dict(db.tables.journal), dict(db.tables.balances))

    clock.at += timedelta(hours=1)
    again = await settle(db, clock, merchant.id, *lines)

    assert again == BatchOutcome(posted=0, duplicates=2, rejected=(), points=0)
    assert (dict(db.tables.purchases), dict(db.tables.journal), dict(db.tables.balances)) == before


async def test_a_reference_reused_with_other_details_is_rejected_in_a_later_file_and_within_one(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    await settle(db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_000))

    outcome = await settle(
        db,
        clock,
        merchant.id,
        line(2, "S-1", "CRM-1", 10_001),  # the earlier file's reference, another amount
        line(3, "S-2", "CRM-1", 2_000),
        line(4, "S-2", "CRM-1", 2_000),  # the same line twice: a duplicate
        line(5, "S-2", "CRM-1", 3_000),  # the same reference, other details
    )

    message = "reference: already imported with different details"
    assert outcome == BatchOutcome(
        posted=1, duplicates=1, rejected=(BadLine(2, message), BadLine(5, message)), points=20
    )
    assert balance(db, db.tables.purchases[min(db.tables.purchases)].member_id).available == 120


async def test_bad_lines_are_reported_by_line_number_and_the_rest_posted(clock: FixedClock) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-1")
    await given_member(db, "CRM-9", MemberStatus.LOCKED)
    merchant = await given_merchant(db)

    outcome = await settle(
        db,
        clock,
        merchant.id,
        line(7, "S-7", "CRM-404", 1_000),
        line(3, "S-3", "CRM-9", 1_000),
        line(4, "S-4", "CRM-1", 1_000, currency="USD"),
        line(5, "S-5", "CRM-1", 1_000, at=NOW + timedelta(minutes=5, seconds=1)),
        line(6, "S-6", "CRM-1", 1_000, at=NOW + timedelta(minutes=5)),  # within the tolerance
        line(2, "S-2", "CRM-1", 1_000, at=NOW - timedelta(days=90)),  # the oldest allowed
        line(8, "S-8", "CRM-1", 1_000, at=NOW - timedelta(days=90, microseconds=1)),
    )

    assert outcome.rejected == (
        BadLine(3, "member: member is locked"),
        BadLine(4, "currency: currency 'USD' is not accepted by this programme"),
        BadLine(5, "time: a purchase cannot happen in the future"),
        BadLine(7, "member: no member linked to this merchant has this reference"),
        BadLine(8, "time: a purchase may be dated at most 90 days back"),
    )
    assert (outcome.posted, outcome.points) == (2, 20)
    assert sorted(p.reference or "" for p in db.tables.purchases.values()) == ["S-2", "S-6"]
    assert set(db.tables.idempotency) == {
        (f"merchant:{merchant.id}:settlement", ref) for ref in ("S-2", "S-6")
    }


@pytest.mark.parametrize(
    ("available", "earned"),
    [
        (MAX_BALANCE - 150, MAX_BALANCE - 150),
        (MAX_BALANCE - 150, MAX_BALANCE - 1_000),  # points received from others are not earned
        (0, MAX_BALANCE - 150),  # earned and spent: lifetime earned has the same limit
    ],
)
async def test_a_line_taking_a_balance_past_the_limit_is_rejected_and_can_be_sent_again(
    clock: FixedClock, available: int, earned: int
) -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    db.tables.balances[member.id] = Balance(member.id, available, 0, 0, earned, 0)

    outcome = await settle(
        db,
        clock,
        merchant.id,
        line(2, "S-1", "CRM-1", 10_000),  # 100: fits
        line(3, "S-2", "CRM-1", 5_100),  # 51: one over what is left
        line(4, "S-3", "CRM-1", 5_000),  # 50: exactly to the limit
    )

    assert outcome == BatchOutcome(
        posted=2,
        duplicates=0,
        rejected=(BadLine(3, f"amount: a member's balance cannot exceed {MAX_BALANCE} points"),),
        points=150,
    )
    assert balance(db, member.id) == Balance(member.id, available + 150, 0, 0, earned + 150, 0)
    scope = f"merchant:{merchant.id}:settlement"
    assert (scope, "S-2") not in db.tables.idempotency  # released: the line may come again
    assert {(scope, "S-1"), (scope, "S-3")} <= set(db.tables.idempotency)


@pytest.mark.parametrize("days", [1, 7])
async def test_inside_the_return_window_the_points_are_pending_until_it_ends(
    clock: FixedClock, days: int
) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, pending_days=days))
    member = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)

    await settle(db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_000))

    [purchase] = db.tables.purchases.values()
    assert (purchase.points_earned, purchase.points_pending) == (100, 100)
    assert db.tables.purchase_terms[purchase.id].matures_at == NOW + timedelta(days=days)
    assert balance(db, member.id) == Balance(member.id, 0, 100, 0, 100, 0)
    assert lots_of(db, member.id) == []
    [posted] = db.tables.journal.values()
    assert (
        posted.entry.description
        == f"Earned at Tea House, pending until {NOW + timedelta(days=days):%Y-%m-%d}"
    )


async def test_a_tier_multiplier_applies_as_it_does_to_a_purchase(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    merchant = await given_merchant(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1), NOW)
        gold = await seed.tiers.add(
            Tier(0, "GOLD", "Gold", 2, min_points=1, earn_multiplier=Decimal("1.5")), NOW
        )
        await seed.commit()
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)

    outcome = await settle(
        db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_001), line(3, "S-2", "CRM-2", 10_001)
    )

    assert [p.points_earned for p in db.tables.purchases.values()] == [150, 100]  # 100.01 x 1.5, rounded down
    assert outcome.points == 250


async def test_an_earning_repays_a_members_debt_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    db.tables.balances[member.id] = Balance(member.id, 0, 0, 0, 0, 0, debt=30)

    await settle(db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_000))

    assert balance(db, member.id) == Balance(member.id, 70, 0, 0, 100, 0, 0)
    assert [lot.points for lot in lots_of(db, member.id)] == [70]


async def test_a_caller_that_is_not_an_existing_merchant_posts_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-1")
    merchant = await given_merchant(db)

    for actor, code in (
        (Actor(Role.ADMIN, "admin"), ErrorCode.FORBIDDEN),
        (Actor(Role.MERCHANT, "pos"), ErrorCode.NOT_FOUND),
        (merchant_actor(merchant.id + 100), ErrorCode.NOT_FOUND),
    ):
        refused = await raised(
            import_settlement_batch(
                [line(2, "S-1", "CRM-1", 1_000)], actor=actor, uow=FakeUnitOfWork(db), clock=clock
            )
        )
        assert refused.code is code
    assert db.tables.purchases == {}
    assert db.tables.idempotency == {}


async def test_a_line_wakes_a_dormant_member_even_when_it_earns_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    earner = await given_member(db, "CRM-1")
    small = await given_member(db, "CRM-2")
    asleep = await given_member(db, "CRM-3")
    merchant = await given_merchant(db)
    for member in (earner, small, asleep):
        db.tables.members[member.id] = replace(
            db.tables.members[member.id], dormant_since=NOW - timedelta(days=9)
        )

    await settle(db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_000), line(3, "S-2", "CRM-2", 99))

    woken = [db.tables.members[m.id] for m in (earner, small, asleep)]
    assert [(m.shown_status, m.last_activity_at) for m in woken] == [
        (MemberStatus.ACTIVE, NOW),
        (MemberStatus.ACTIVE, NOW),  # 0.99 earns nothing: no entry, but the member shopped
        (MemberStatus.DORMANT, datetime(2023, 1, 1, tzinfo=UTC)),
    ]


async def test_a_ladder_whose_entry_tier_multiplies_applies_it_to_members_without_a_tier(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "ONE", "One", 1, earn_multiplier=Decimal(2)), NOW)
        await seed.commit()

    outcome = await settle(db, clock, merchant.id, line(2, "S-1", "CRM-1", 10_000))

    assert outcome.points == 200
