"""Risk control in a settlement batch over the fakes: each line assessed in file order seeing the
lines before it, a refused line rejected with its counters given back, a held line's points in
review with its audit row, and what a line asks for (its digest) apart from where it sits."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.ledger import MAX_BALANCE, Account, AccountKind
from domain.members import Balance
from domain.merchants import Channel
from domain.money import Money
from domain.risk import Counted, RiskAction, RuleKind
from domain.services.settlement import import_settlement_batch, line_digest
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from domain.tiers import Tier
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork, linked
from tests.unit.test_services import balance, given_member, given_merchant, lots_of, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)


def line(n: int, reference: str, member_ref: str, minor: int) -> SettlementLine:
    return SettlementLine(n, reference, member_ref, Money(minor, "CNY"), YESTERDAY, None)


def set_rule(db: FakeDatabase, kind: RuleKind, **changes: object) -> None:
    for rule in db.tables.risk.rules.values():
        if rule.kind is kind:
            db.tables.risk.rules[rule.id] = replace(rule, **changes)  # type: ignore[arg-type]


async def given_shop(db: FakeDatabase, *external_refs: str) -> tuple[int, dict[str, str]]:
    merchant = await given_merchant(db)
    refs = {}
    for external_ref in external_refs:
        member = await given_member(db, external_ref)
        refs[external_ref] = linked(db, merchant.id, member.id).ref or ""
    return merchant.id, refs


async def settle(db: FakeDatabase, merchant_id: int, *lines: SettlementLine) -> BatchOutcome:
    return await import_settlement_batch(
        lines,
        actor=Actor(Role.MERCHANT, f"pos-{merchant_id}", merchant_id=merchant_id, request_id="req-5"),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )


async def test_a_refused_line_sees_the_lines_before_it_and_gives_back_its_counters() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1", "CRM-2")
    set_rule(db, RuleKind.MEMBER_DAILY_POINTS, action=RiskAction.REFUSE, limit=150)

    outcome = await settle(
        db,
        merchant_id,
        line(2, "S-1", refs["CRM-1"], 10_000),  # 100 points today
        line(3, "S-2", refs["CRM-1"], 6_000),  # 160 with the line before: refused
        line(4, "S-3", refs["CRM-1"], 5_000),  # 150: exactly the limit
        line(5, "S-4", refs["CRM-2"], 6_000),  # another member's day
    )

    assert outcome == BatchOutcome(
        posted=3,
        duplicates=0,
        rejected=(
            BadLine(3, "amount: refused by risk control: the member's points today would be 160, over 150"),
        ),
        points=210,
    )
    scope = f"merchant:{merchant_id}:settlement"
    assert (scope, "S-2") not in db.tables.idempotency  # released: the line may come again
    expected = FakeDatabase()
    other_merchant, other_refs = await given_shop(expected, "CRM-1", "CRM-2")
    set_rule(expected, RuleKind.MEMBER_DAILY_POINTS, action=RiskAction.REFUSE, limit=150)
    await settle(
        expected,
        other_merchant,
        line(2, "S-1", other_refs["CRM-1"], 10_000),
        line(4, "S-3", other_refs["CRM-1"], 5_000),
        line(5, "S-4", other_refs["CRM-2"], 6_000),
    )
    assert db.tables.risk.counters == expected.tables.risk.counters  # as if the refused line never came


async def test_a_held_line_goes_to_review_with_its_audit_row_and_no_return_window() -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, pending_days=7))
    merchant_id, refs = await given_shop(db, "CRM-1")
    set_rule(db, RuleKind.MEMBER_DAILY_POINTS, limit=150)  # HOLD, as by default

    outcome = await settle(
        db, merchant_id, line(2, "S-1", refs["CRM-1"], 10_000), line(3, "S-2", refs["CRM-1"], 6_000)
    )

    assert outcome == BatchOutcome(posted=2, duplicates=0, rejected=(), points=160)
    member_id = next(iter(db.tables.members))
    assert balance(db, member_id) == Balance(member_id, 0, 100, 0, 160, 0, under_review=60)
    assert lots_of(db, member_id) == []
    held = next(p for p in db.tables.purchases.values() if p.reference == "S-2")
    assert (held.points_pending, db.tables.purchase_terms[held.id].matures_at) == (0, None)
    [review] = db.tables.risk.reviews.values()
    assert (review.member_id, review.purchase_id, review.merchant_id, review.points, review.created_at) == (
        member_id,
        held.id,
        merchant_id,
        60,
        NOW,
    )
    assert [o.kind for o in review.outcomes] == [RuleKind.MEMBER_DAILY_POINTS]
    assert db.tables.audit == [
        AuditEvent(
            f"pos-{merchant_id}",
            "security.risk_hold",
            "Member",
            member_id,
            None,
            {
                "reviewId": review.id,
                "purchaseId": held.id,
                "points": 60,
                "rules": "the member's points today would be 160, over 150",
            },
            "req-5",
            NOW,
            member_id=member_id,
        )
    ]
    [posted] = [p for p in db.tables.journal.values() if p.entry.origin_id == held.id]
    assert posted.entry.postings[-1].account == Account(AccountKind.MEMBER_REVIEW, member_id)


async def test_a_line_earning_nothing_is_never_held() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")
    set_rule(db, RuleKind.MEMBER_VELOCITY, limit=0)  # every purchase over the velocity limit: HOLD

    outcome = await settle(db, merchant_id, line(2, "S-1", refs["CRM-1"], 99))

    assert outcome == BatchOutcome(posted=1, duplicates=0, rejected=(), points=0)
    assert db.tables.risk.reviews == {}
    assert db.tables.audit == []


async def test_a_line_the_ledger_refuses_gives_back_its_counters() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")
    member_id = next(iter(db.tables.members))
    db.tables.balances[member_id] = Balance(member_id, MAX_BALANCE - 100, 0, 0, MAX_BALANCE - 100, 0)

    outcome = await settle(db, merchant_id, line(2, "S-1", refs["CRM-1"], 20_000))

    assert outcome.rejected == (BadLine(2, f"amount: a member's balance cannot exceed {MAX_BALANCE} points"),)
    assert all((c.count, c.points, c.amount_minor) == (0, 0, 0) for c in db.tables.risk.counters.values())


def test_a_lines_digest_is_what_it_asks_for_apart_from_its_place_in_the_file() -> None:
    at = datetime(2024, 2, 29, 8, 30, tzinfo=UTC)
    online = SettlementLine(7, "S-1", "MREF", Money(1_234, "HKD"), at, Channel.ONLINE)
    fields = "\x1f".join(("S-1", "MREF", "1234", "HKD", "2024-02-29T08:30:00+00:00", "ONLINE"))

    assert line_digest(online) == hashlib.sha256(fields.encode()).hexdigest()
    assert line_digest(replace(online, line_no=8)) == line_digest(online)
    assert (
        line_digest(replace(online, channel=None))
        == hashlib.sha256(fields.removesuffix("ONLINE").encode()).hexdigest()
    )


async def test_each_line_counts_in_the_counters_and_a_later_line_sees_the_earlier_ones() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")
    set_rule(db, RuleKind.MEMBER_VELOCITY, action=RiskAction.REFUSE, limit=2, window_minutes=10)

    outcome = await settle(
        db,
        merchant_id,
        line(2, "S-1", refs["CRM-1"], 10_000),
        line(3, "S-2", refs["CRM-1"], 20_000),
        line(4, "S-3", refs["CRM-1"], 30_000),  # the third purchase in the window: refused
    )

    member_id = next(iter(db.tables.members))
    assert outcome.rejected == (
        BadLine(4, "amount: refused by risk control: purchase 3 in 10 minutes, over 2"),
    )
    counted = {k.scope.value: c for k, c in db.tables.risk.counters.items() if k.owner_id == member_id}
    assert counted["MEMBER_HISTORY"] == Counted(2, 300, 30_000)
    assert counted["MEMBER_DAY"] == Counted(2, 300, 0)
    merchant_day = [c for k, c in db.tables.risk.counters.items() if k.scope.value == "MERCHANT_DAY"]
    assert [k.owner_id for k in db.tables.risk.counters if k.scope.value == "MERCHANT_DAY"] == [merchant_id]
    assert merchant_day == [Counted(2, 300, 0)]


async def test_a_line_over_the_amount_rule_is_held_on_its_own_amount() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")

    outcome = await settle(
        db, merchant_id, line(2, "S-1", refs["CRM-1"], 30_000_001), line(3, "S-2", refs["CRM-1"], 100)
    )

    assert (outcome.posted, outcome.rejected) == (2, ())
    [review] = db.tables.risk.reviews.values()
    assert review.points == 300_000
    assert [o.kind for o in review.outcomes] == [RuleKind.PURCHASE_AMOUNT]


async def test_bad_risky_and_over_limit_lines_are_all_reported() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1", "CRM-2")
    set_rule(db, RuleKind.MEMBER_DAILY_POINTS, action=RiskAction.REFUSE, limit=150)
    rich = sorted(db.tables.members)[1]
    db.tables.balances[rich] = Balance(rich, MAX_BALANCE - 50, 0, 0, MAX_BALANCE - 50, 0)

    outcome = await settle(
        db,
        merchant_id,
        line(2, "S-1", "MR-NOBODY", 1_000),
        line(3, "S-2", refs["CRM-1"], 20_000),  # 200 today: refused
        line(4, "S-3", refs["CRM-2"], 99),  # earns nothing: posted
        line(5, "S-4", refs["CRM-2"], 6_000),  # 60: past the balance limit
        line(6, "S-5", refs["CRM-2"], 5_100),  # 51: past it too
    )

    assert [bad.line_no for bad in outcome.rejected] == [2, 3, 5, 6]
    assert outcome.rejected[2] == BadLine(5, f"amount: a member's balance cannot exceed {MAX_BALANCE} points")
    assert (outcome.posted, outcome.points) == (1, 0)


async def test_a_member_holding_a_tier_the_ladder_no_longer_has_earns_at_the_entry_tier() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1, earn_multiplier=Decimal(2)), NOW)
        await seed.commit()
    member_id = next(iter(db.tables.members))
    db.tables.members[member_id] = replace(db.tables.members[member_id], tier_id=404)

    outcome = await settle(db, merchant_id, line(2, "S-1", refs["CRM-1"], 10_000))

    assert outcome.points == 200


async def test_what_is_stored_for_a_line_and_a_caller_that_is_no_merchant() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")

    await settle(db, merchant_id, line(2, "S-1", refs["CRM-1"], 10_000))
    anonymous = await raised(
        import_settlement_batch(
            [], actor=Actor(Role.MERCHANT, "pos"), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )
    unknown = await raised(settle(db, 404))

    row = db.tables.idempotency[(f"merchant:{merchant_id}:settlement", "S-1")]
    assert (row.response, row.created_at) == ({"result": {"points_earned": 100}}, NOW)
    [purchase] = db.tables.purchases.values()
    assert (purchase.created_at, purchase.occurred_at, purchase.merchant_id) == (NOW, YESTERDAY, merchant_id)
    assert (anonymous.code, anonymous.message) == (ErrorCode.NOT_FOUND, "the token names no merchant")
    assert (unknown.code, unknown.message) == (ErrorCode.NOT_FOUND, "the merchant does not exist")


async def test_a_line_keeps_the_channel_it_names() -> None:
    db = FakeDatabase()
    merchant_id, refs = await given_shop(db, "CRM-1")

    await settle(db, merchant_id, replace(line(2, "S-1", refs["CRM-1"], 1_000), channel=Channel.ONLINE))

    [purchase] = db.tables.purchases.values()
    assert purchase.channel is Channel.ONLINE
