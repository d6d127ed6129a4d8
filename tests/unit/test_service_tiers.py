"""The tier use cases over the fakes: the ladder's cleaning and refusals with their messages and
fields, an update that changes nothing, the upgrade a purchase checks, and the evaluation job's
counts, batches and busy members."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.commands import CreateTier, UpdateTier
from domain.errors import ErrorCode
from domain.merchants import Channel
from domain.money import Money
from domain.purchases import Purchase
from domain.services import tiers
from domain.services.tiers import (
    TierRun,
    create_tier,
    run_tier_evaluation,
    update_tier,
    upgrade_after_purchase,
)
from domain.tiers import Qualification, Tier, TierChangeReason
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.database import PurchaseTerms
from tests.unit.test_services import given_member, raised

ADMIN = Actor(Role.ADMIN, "admin-ada", request_id="req-1")
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


async def create(db: FakeDatabase, cmd: CreateTier) -> Tier:
    return await create_tier(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def update(db: FakeDatabase, cmd: UpdateTier, at: datetime = NOW) -> Tier:
    return await update_tier(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(at))


async def ladder(db: FakeDatabase) -> tuple[Tier, Tier, Tier]:
    classic = await create(db, CreateTier("classic", "Classic", 1))
    gold = await create(db, CreateTier("gold", "Gold", 2, min_points=1_000, earn_multiplier=Decimal("1.5")))
    platinum = await create(
        db, CreateTier("platinum", "Platinum", 3, min_points=5_000, earn_multiplier=Decimal(2))
    )
    return classic, gold, platinum


# --- the ladder -----------------------------------------------------------------------------------


async def test_a_tier_is_created_cleaned_and_audited() -> None:
    db = FakeDatabase()

    tier = await create(
        db,
        CreateTier(
            " gold ",
            " Gold card ",
            0,
            min_points=1,
            min_spend=Money(100, "CNY"),
            earn_multiplier=Decimal("1.2345"),
        ),
    )

    assert tier == Tier(
        tier.id,
        "GOLD",
        "Gold card",
        0,
        min_points=1,
        min_spend=Money(100, "CNY"),
        earn_multiplier=Decimal("1.2345"),
        created_at=NOW,
        updated_at=NOW,
    )
    assert db.tables.tiers == {tier.id: tier}
    [event] = db.tables.audit
    assert event == AuditEvent("admin-ada", "createTier", "Tier", tier.id, None, event.after, "req-1", NOW)
    assert event.after is not None
    assert (event.after["code"], event.after["earn_multiplier"], event.after["min_points"]) == (
        "GOLD",
        "1.2345",
        1,
    )


@pytest.mark.parametrize("multiplier", [Decimal(1), Decimal(10), "2.5"])
async def test_a_multiplier_from_one_to_ten_is_accepted(multiplier: Decimal) -> None:
    db = FakeDatabase()

    tier = await create(db, CreateTier("GOLD", "Gold", 1, min_points=5, earn_multiplier=multiplier))

    assert tier.earn_multiplier == Decimal(multiplier)


@pytest.mark.parametrize(
    ("changes", "code", "message", "field"),
    [
        ({"code": " "}, ErrorCode.VALIDATION, "must not be blank", ("code",)),
        ({"code": "C" * 21}, ErrorCode.VALIDATION, "must be at most 20 characters", ("code",)),
        ({"code": "TWO\tWORDS"}, ErrorCode.VALIDATION, "a code has no spaces", ("code",)),
        ({"name": "n" * 61}, ErrorCode.VALIDATION, "must be at most 60 characters", ("name",)),
        ({"rank": -1}, ErrorCode.VALIDATION, "must not be negative", ("rank",)),
        ({"min_points": 0}, ErrorCode.VALIDATION, "must be greater than zero", ("minPoints",)),
        (
            {"earn_multiplier": "lots"},
            ErrorCode.VALIDATION,
            "must be a decimal number like 1.5",
            ("earnMultiplier",),
        ),
        (
            {"earn_multiplier": Decimal("NaN")},
            ErrorCode.VALIDATION,
            "must be between 1 and 10",
            ("earnMultiplier",),
        ),
        (
            {"earn_multiplier": Decimal("0.9999")},
            ErrorCode.VALIDATION,
            "must be between 1 and 10",
            ("earnMultiplier",),
        ),
        (
            {"earn_multiplier": Decimal("10.0001")},
            ErrorCode.VALIDATION,
            "must be between 1 and 10",
            ("earnMultiplier",),
        ),
        (
            {"earn_multiplier": Decimal("1.00001")},
            ErrorCode.VALIDATION,
            "at most 4 decimal places",
            ("earnMultiplier",),
        ),
        ({"min_spend": Money(100, "XXX")}, ErrorCode.VALIDATION, None, ("minSpend", "currency")),
        ({"code": "gold"}, ErrorCode.ALREADY_EXISTS, "a tier with code GOLD exists", ("code",)),
        ({"rank": 2}, ErrorCode.ALREADY_EXISTS, "a tier with rank 2 exists", ("rank",)),
        (
            {"min_points": None},
            ErrorCode.VALIDATION,
            "the ladder already has an entry tier (one without thresholds)",
            ("minPoints",),
        ),
    ],
    ids=[
        "blank-code",
        "long-code",
        "spaced-code",
        "long-name",
        "negative-rank",
        "zero-points",
        "not-a-number",
        "nan",
        "below-one",
        "above-ten",
        "five-places",
        "currency",
        "taken-code",
        "taken-rank",
        "second-entry",
    ],
)
async def test_a_bad_tier_is_refused_with_its_message_and_field_and_nothing_changes(
    changes: dict[str, object], code: ErrorCode, message: str | None, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    await ladder(db)
    before = dict(db.tables.tiers), list(db.tables.audit)
    values: dict[str, object] = {
        "code": "DIAMOND",
        "name": "Diamond",
        "rank": 4,
        "min_points": 9_000,
    } | changes

    error = await raised(create(db, CreateTier(**values)))  # type: ignore[arg-type]

    assert (error.code, error.field) == (code, field)
    if message is not None:
        assert error.message == message
    assert (dict(db.tables.tiers), list(db.tables.audit)) == before


async def test_the_longest_code_and_name_are_accepted() -> None:
    db = FakeDatabase()

    tier = await create(db, CreateTier("c" * 20, "n" * 60, 1))

    assert (tier.code, tier.name) == ("C" * 20, "n" * 60)


async def test_an_update_changes_only_what_it_names_and_is_audited_before_and_after() -> None:
    db = FakeDatabase()
    _, gold, _ = await ladder(db)
    later = NOW + timedelta(days=1)

    updated = await update(db, UpdateTier(gold.id, name="Gold+", min_spend=Money(50_000, "CNY")), at=later)

    assert updated == replace(gold, name="Gold+", min_spend=Money(50_000, "CNY"), updated_at=later)
    assert db.tables.tiers[gold.id] == updated
    event = db.tables.audit[-1]
    assert (event.action, event.target_type, event.target_id, event.at) == (
        "updateTier",
        "Tier",
        gold.id,
        later,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["name"], event.after["name"]) == ("Gold", "Gold+")
    assert (event.before["min_spend"], event.after["min_spend"]) == (
        None,
        {"amount_minor": 50_000, "currency": "CNY"},
    )


async def test_every_field_of_a_tier_may_be_updated() -> None:
    db = FakeDatabase()
    _, gold, _ = await ladder(db)

    updated = await update(
        db,
        UpdateTier(
            gold.id,
            code="amber",
            name="Amber",
            rank=5,
            min_points=2_000,
            min_spend=None,
            earn_multiplier=Decimal(3),
        ),
    )

    assert (updated.code, updated.name, updated.rank, updated.min_points, updated.earn_multiplier) == (
        "AMBER",
        "Amber",
        5,
        2_000,
        Decimal(3),
    )


async def test_an_update_that_changes_nothing_is_not_stored_or_audited() -> None:
    db = FakeDatabase()
    _, gold, _ = await ladder(db)
    uow = FakeUnitOfWork(db)

    same = await update_tier(
        UpdateTier(gold.id, code=" gold ", name="Gold"),
        actor=ADMIN,
        uow=uow,
        clock=FixedClock(NOW + timedelta(days=1)),
    )

    assert same == gold
    assert db.tables.tiers[gold.id] == gold
    assert [e.action for e in db.tables.audit] == ["createTier"] * 3
    assert uow.commits == 0


async def test_a_tier_keeps_its_own_code_and_rank_when_updated() -> None:
    db = FakeDatabase()
    _, gold, _ = await ladder(db)

    updated = await update(db, UpdateTier(gold.id, code="GOLD", rank=2, min_points=1_001))

    assert updated.min_points == 1_001


async def test_updating_an_unknown_tier_is_not_found() -> None:
    db = FakeDatabase()

    error = await raised(update(db, UpdateTier(404, name="x")))

    assert (error.code, error.message, error.field) == (ErrorCode.NOT_FOUND, "no such tier", ("id",))


async def test_only_an_admin_manages_tiers() -> None:
    db = FakeDatabase()
    member = Actor(Role.MEMBER, "m", member_id=1)

    refusals = [
        await raised(
            create_tier(CreateTier("G", "G", 1), actor=member, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
        ),
        await raised(
            update_tier(UpdateTier(1, name="x"), actor=member, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
        ),
    ]

    assert [(e.code, e.message) for e in refusals] == [
        (ErrorCode.FORBIDDEN, "this operation needs the role admin")
    ] * 2
    assert db.tables == FakeDatabase().tables


# --- upgrades on purchase -------------------------------------------------------------------------


async def bought(db: FakeDatabase, member_id: int, points: int, at: datetime = NOW) -> None:
    """A purchase that earned `points`, as the purchases table holds it."""

    purchase_id = db.next_id()
    db.tables.purchases[purchase_id] = Purchase(
        purchase_id, member_id, 1, Money(points * 100, "CNY"), Channel.OFFLINE, at, None, points, 0, at
    )
    db.tables.purchase_terms[purchase_id] = PurchaseTerms()


async def test_a_purchase_reaching_a_higher_tier_upgrades_the_member_under_its_lock() -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    member = await given_member(db)
    await bought(db, member.id, 1_000)
    uow = FakeUnitOfWork(db)

    async with uow:
        decision = await upgrade_after_purchase(
            uow, member, [classic, gold, platinum], db.programme, NOW, locked=False
        )
        await uow.commit()

    assert decision is not None
    assert (decision.reason, decision.from_tier, decision.to_tier, decision.grace_until) == (
        TierChangeReason.UPGRADE,
        classic,
        gold,
        None,
    )
    assert db.tables.members[member.id].tier_id == gold.id
    [change] = db.tables.tier_changes
    assert (change.from_tier_id, change.to_tier_id, change.qualification) == (
        classic.id,
        gold.id,
        Qualification(1_000, 0),
    )


async def test_a_purchase_short_of_the_next_tier_or_before_the_window_changes_nothing() -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    member = await given_member(db)
    await bought(db, member.id, 999)
    await bought(db, member.id, 5_000, at=NOW - timedelta(days=400))  # before the 12-month window
    uow = FakeUnitOfWork(db)

    async with uow:
        decision = await upgrade_after_purchase(
            uow, member, [classic, gold, platinum], db.programme, NOW, locked=True
        )

    assert decision is None
    assert db.tables.tier_changes == []


async def test_without_tiers_or_at_the_top_a_purchase_checks_nothing() -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    member = await given_member(db)
    top = replace(member, tier_id=platinum.id)
    await bought(db, member.id, 9_000)
    uow = FakeUnitOfWork(db)

    async with uow:
        assert await upgrade_after_purchase(uow, member, [], db.programme, NOW, locked=True) is None
        assert (
            await upgrade_after_purchase(uow, top, [classic, gold, platinum], db.programme, NOW, locked=True)
            is None
        )

    assert db.tables.tier_changes == []


async def test_an_upgrade_another_transaction_made_first_is_not_made_again() -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    member = await given_member(db)
    await bought(db, member.id, 1_000)
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)  # meanwhile
    uow = FakeUnitOfWork(db)

    async with uow:
        decision = await upgrade_after_purchase(
            uow, member, [classic, gold, platinum], db.programme, NOW, locked=True
        )

    assert decision is None
    assert db.tables.tier_changes == []


# --- the evaluation job ---------------------------------------------------------------------------


async def test_without_a_ladder_the_evaluation_looks_at_no_one() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await bought(db, member.id, 9_000)

    assert await run_tier_evaluation(lambda: FakeUnitOfWork(db), FixedClock(NOW)) == TierRun(0, 0, 0)


async def test_the_evaluation_counts_each_kind_of_change_and_reports_progress_per_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    upgrade = await given_member(db, "CRM-1")
    grace = await given_member(db, "CRM-2")
    requalify = await given_member(db, "CRM-3")
    down = await given_member(db, "CRM-4")
    busy = await given_member(db, "CRM-5")
    await bought(db, upgrade.id, 1_000)
    db.tables.members[grace.id] = replace(db.tables.members[grace.id], tier_id=gold.id)
    db.tables.members[requalify.id] = replace(
        db.tables.members[requalify.id], tier_id=gold.id, tier_grace_until=NOW + timedelta(days=3)
    )
    await bought(db, requalify.id, 1_000)
    db.tables.members[down.id] = replace(
        db.tables.members[down.id], tier_id=platinum.id, tier_grace_until=NOW - timedelta(seconds=1)
    )
    await bought(db, down.id, 1_000)
    db.tables.members[busy.id] = replace(db.tables.members[busy.id], tier_id=gold.id)
    db.locked_elsewhere = {busy.id}
    monkeypatch.setattr(tiers, "BATCH", 2)
    progress: list[int] = []

    run = await run_tier_evaluation(lambda: FakeUnitOfWork(db), FixedClock(NOW), progress.append)

    assert run == TierRun(members=4, upgraded=1, downgraded=1, grace_started=1, requalified=1, skipped=1)
    assert progress == [2, 4, 4]
    assert [(c.member_id, c.reason) for c in db.tables.tier_changes] == [
        (upgrade.id, TierChangeReason.UPGRADE),
        (grace.id, TierChangeReason.GRACE),
        (requalify.id, TierChangeReason.REQUALIFIED),
        (down.id, TierChangeReason.DOWNGRADE),
    ]
    assert db.tables.members[down.id].tier_id == gold.id
    assert db.tables.members[grace.id].tier_grace_until == NOW + timedelta(days=db.programme.tier_grace_days)
    assert db.tables.members[busy.id].tier_grace_until is None  # left for the next run
    assert classic.id not in {c.to_tier_id for c in db.tables.tier_changes}


async def test_a_spend_threshold_is_kept_in_its_currencys_code_and_an_update_keeps_it_unless_named() -> None:
    db = FakeDatabase()

    tier = await create(db, CreateTier("gold", "Gold", 2, min_spend=Money(50_000, " cny ")))
    renamed = await update(db, UpdateTier(tier.id, name="Gold+"))

    assert tier.min_spend == Money(50_000, "CNY")
    assert renamed.min_spend == Money(50_000, "CNY")


async def test_a_purchase_checks_under_the_members_lock_taking_it_only_when_not_yet_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    classic, gold, platinum = await ladder(db)
    member = await given_member(db)
    uow = FakeUnitOfWork(db)
    taken: list[list[int]] = []
    lock = uow.ledger.lock_balances

    async def spy(member_ids: list[int], *, skip_locked: bool = False) -> object:
        taken.append(list(member_ids))
        return await lock(member_ids, skip_locked=skip_locked)

    monkeypatch.setattr(uow.ledger, "lock_balances", spy)
    async with uow:
        await upgrade_after_purchase(uow, member, [classic, gold, platinum], db.programme, NOW, locked=True)
        assert taken == []
        await upgrade_after_purchase(uow, member, [classic, gold, platinum], db.programme, NOW, locked=False)
        assert taken == [[member.id]]


async def test_the_evaluation_counts_every_change_and_every_busy_member_and_goes_on_past_them() -> None:
    db = FakeDatabase()
    first = await given_member(db, "CRM-1")  # id 1: the first member of all is evaluated too
    classic = await create(db, CreateTier("classic", "Classic", 1))
    gold = await create(db, CreateTier("gold", "Gold", 2, min_points=1_000, min_spend=Money(500_000, "CNY")))
    busy = [await given_member(db, f"CRM-B{i}") for i in range(2)]
    spenders = [await given_member(db, f"CRM-S{i}") for i in range(2)]
    for member in (first, *busy, *spenders):
        # spend reaches gold, points do not: the spend is counted in the ladder's currency
        purchase_id = db.next_id()
        db.tables.purchases[purchase_id] = Purchase(
            purchase_id, member.id, 1, Money(500_000, "CNY"), Channel.OFFLINE, NOW, None, 10, 0, NOW
        )
        db.tables.purchase_terms[purchase_id] = PurchaseTerms()
    db.locked_elsewhere = {m.id for m in busy}
    at = NOW + timedelta(hours=1)

    run = await run_tier_evaluation(lambda: FakeUnitOfWork(db), FixedClock(at))

    assert run == TierRun(members=3, upgraded=3, downgraded=0, skipped=2)
    assert [
        (c.member_id, c.from_tier_id, c.to_tier_id, c.qualification, c.created_at)
        for c in db.tables.tier_changes
    ] == [(m.id, classic.id, gold.id, Qualification(10, 500_000), at) for m in (first, *spenders)]


async def test_a_ladder_without_an_entry_tier_is_evaluated_too() -> None:
    db = FakeDatabase()
    gold = await create(db, CreateTier("gold", "Gold", 2, min_points=1_000))
    member = await given_member(db)
    await bought(db, member.id, 1_000)

    run = await run_tier_evaluation(lambda: FakeUnitOfWork(db), FixedClock(NOW))

    assert (run.members, run.upgraded) == (1, 1)
    assert db.tables.members[member.id].tier_id == gold.id


async def test_a_member_gone_between_the_batch_and_its_evaluation_is_passed_over() -> None:
    db = FakeDatabase()
    _, gold, _ = await ladder(db)
    gone = await given_member(db, "CRM-1")
    stays = await given_member(db, "CRM-2")
    for member in (gone, stays):
        db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)
    factories = 0

    def factory() -> FakeUnitOfWork:
        nonlocal factories
        factories += 1
        if factories == 3:  # after the batch was read
            del db.tables.members[gone.id]
        return FakeUnitOfWork(db)

    run = await run_tier_evaluation(factory, FixedClock(NOW))

    assert (run.members, run.grace_started) == (1, 1)
    assert [c.member_id for c in db.tables.tier_changes] == [stays.id]


async def test_a_purchase_reaching_a_spend_threshold_upgrades_at_once_and_is_dated() -> None:
    db = FakeDatabase()
    classic = await create(db, CreateTier("classic", "Classic", 1))
    gold = await create(db, CreateTier("gold", "Gold", 2, min_spend=Money(500_000, "CNY")))
    member = await given_member(db)
    purchase_id = db.next_id()
    db.tables.purchases[purchase_id] = Purchase(
        purchase_id, member.id, 1, Money(500_000, "CNY"), Channel.OFFLINE, NOW, None, 0, 0, NOW
    )
    db.tables.purchase_terms[purchase_id] = PurchaseTerms()
    uow = FakeUnitOfWork(db)

    async with uow:
        decision = await upgrade_after_purchase(uow, member, [classic, gold], db.programme, NOW, locked=True)
        await uow.commit()

    assert decision is not None
    assert decision.to_tier == gold
    [change] = db.tables.tier_changes
    assert (change.to_tier_id, change.qualification, change.created_at) == (
        gold.id,
        Qualification(0, 500_000),
        NOW,
    )
