"""Segments over the fakes: created by rules (matched at once) or from a list of externalRefs, changed
(a new version, matched again when the rules change), archived and exported by admins, each audited,
every refusal with its message and nothing written; and the refresh job, full on the first run of a
UTC day and incremental after, in batches, with exact counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

import domain.services.segments as segments_service
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import CreateTier
from domain.errors import ErrorCode
from domain.ports.segments import RefreshMark
from domain.segments import AllOf, Condition, Operator, Segment, SegmentField, SegmentKind, SegmentStatus
from domain.services.segments import (
    CreateSegment,
    SegmentExport,
    SegmentRefresh,
    UpdateSegment,
    archive_segment,
    create_segment,
    export_segment,
    run_segment_refresh,
    update_segment,
)
from domain.services.tiers import create_tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, given_lot, given_member, given_merchant, raised, snapshot

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
FAR = datetime(2030, 1, 1, tzinfo=UTC)
RICH = Condition(SegmentField.AVAILABLE_POINTS, Operator.GTE, number=100)
POOR = Condition(SegmentField.AVAILABLE_POINTS, Operator.LT, number=100)
BOUGHT = Condition(SegmentField.PURCHASES_30D, Operator.GTE, number=1)


def clock(at: datetime = NOW) -> FixedClock:
    return FixedClock(at)


async def create(db: FakeDatabase, cmd: CreateSegment, at: datetime = NOW) -> Segment:
    return await create_segment(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock(at))


async def update(db: FakeDatabase, cmd: UpdateSegment, at: datetime = NOW) -> Segment:
    return await update_segment(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock(at))


async def refresh(
    db: FakeDatabase, at: datetime = NOW, *, full: bool = False, progress: list[int] | None = None
) -> SegmentRefresh:
    report = None if progress is None else progress.append
    if full:
        return await run_segment_refresh(lambda: FakeUnitOfWork(db), clock(at), full=True, progress=report)
    return await run_segment_refresh(lambda: FakeUnitOfWork(db), clock(at), progress=report)


def members_of(db: FakeDatabase, segment_id: int) -> set[int]:
    return db.tables.segments.members[segment_id]


async def given_members(db: FakeDatabase, *points: int) -> list[int]:
    """Members CRM-0, CRM-1 ... holding these points."""
    ids = []
    for i, p in enumerate(points):
        member = await given_member(db, f"CRM-{i}")
        if p:
            await given_lot(db, member.id, p, FAR)
        ids.append(member.id)
    return ids


# --- creating -------------------------------------------------------------------------------------


async def test_a_rule_segment_is_matched_at_once_sized_and_audited() -> None:
    db = FakeDatabase()
    rich, _poor, richer = await given_members(db, 100, 99, 500)

    segment = await create(db, CreateSegment(" Rich ", " the top ", rule=RICH))

    assert segment == Segment(
        segment.id, "Rich", "the top", SegmentKind.RULES, RICH, SegmentStatus.ACTIVE, 1, 2, NOW, NOW, NOW
    )
    assert db.tables.segments.segments[segment.id] == segment
    assert members_of(db, segment.id) == {rich, richer}
    assert db.tables.segments.sizes == {(segment.id, TODAY): 2}
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.at, event.before) == (
        "admin-ada",
        "createSegment",
        "Segment",
        segment.id,
        NOW,
        None,
    )
    assert event.after is not None
    assert (event.after["name"], event.after["kind"], event.after["size"]) == ("Rich", "RULES", 2)


async def test_a_static_segment_holds_the_members_named_each_once() -> None:
    db = FakeDatabase()
    first, second, _ = await given_members(db, 0, 0, 0)

    segment = await create(db, CreateSegment("VIP", external_refs=("CRM-1", " CRM-0", "CRM-1")))

    assert (segment.kind, segment.rule, segment.size, segment.refreshed_at) == (
        SegmentKind.STATIC,
        None,
        2,
        NOW,
    )
    assert members_of(db, segment.id) == {first, second}
    assert db.tables.segments.sizes == {(segment.id, TODAY): 2}
    assert db.tables.audit[-1].action == "createSegment"


async def test_a_list_naming_unknown_members_creates_nothing() -> None:
    db = FakeDatabase()
    await given_members(db, 0)
    before = snapshot(db)

    error = await raised(
        create(db, CreateSegment("VIP", external_refs=("CRM-0", "X-4", "X-2", "X-3", "X-1")))
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "4 externalRefs name no member, e.g. X-1, X-2, X-3",
        ("externalRefs",),
    )
    assert db.tables == before


@pytest.mark.parametrize(
    ("cmd", "message", "field"),
    [
        (CreateSegment("S"), "give either rules or externalRefs", ("rules",)),
        (
            CreateSegment("S", rule=RICH, external_refs=("CRM-0",)),
            "give either rules or externalRefs",
            ("rules",),
        ),
        (CreateSegment("n" * 101, rule=RICH), "must be at most 100 characters", ("name",)),
        (CreateSegment(" ", rule=RICH), "must not be blank", ("name",)),
        (CreateSegment("S", "d" * 501, rule=RICH), "must be at most 500 characters", ("description",)),
        (CreateSegment("S", external_refs=()), "give 1 to 100,000 externalRefs", ("externalRefs",)),
        (CreateSegment("S", external_refs=("r" * 65,)), "must be at most 64 characters", ("externalRefs",)),
        (
            CreateSegment("S", rule=Condition(SegmentField.AVAILABLE_POINTS, Operator.IN, values=("1",))),
            "AVAILABLE_POINTS compares with EQ, NE, LT, LTE, GT or GTE",
            ("rules", "condition", "op"),
        ),
    ],
)
async def test_bad_input_is_refused_on_its_field_and_writes_nothing(
    cmd: CreateSegment, message: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    await given_members(db, 0)
    before = snapshot(db)

    error = await raised(create(db, cmd))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables == before


async def test_the_longest_name_description_and_list_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments_service, "MAX_LIST", 2)
    db = FakeDatabase()
    await given_members(db, 0, 0, 0)
    ref = "CRM-0"

    too_many = await raised(create(db, CreateSegment("S", external_refs=("CRM-0", "CRM-1", "CRM-2"))))
    longest = await create(db, CreateSegment("n" * 100, "d" * 500, external_refs=(ref, "CRM-1")))

    assert (too_many.message, too_many.field) == ("give 1 to 2 externalRefs", ("externalRefs",))
    assert (longest.name, longest.description, longest.size) == ("n" * 100, "d" * 500, 2)


async def test_only_an_admin_creates_a_segment() -> None:
    db = FakeDatabase()

    error = await raised(
        create_segment(
            CreateSegment("S", rule=RICH),
            actor=Actor(Role.MERCHANT, "m", merchant_id=1),
            uow=FakeUnitOfWork(db),
            clock=clock(),
        )
    )

    assert error.code is ErrorCode.FORBIDDEN
    assert db.tables.segments.segments == {}


# --- changing, archiving, exporting ---------------------------------------------------------------


async def test_new_rules_make_a_new_version_matched_again_and_audited() -> None:
    db = FakeDatabase()
    rich, poor = await given_members(db, 100, 10)
    segment = await create(db, CreateSegment("Rich", "top", rule=RICH))
    later = NOW + timedelta(days=1)

    changed = await update(db, UpdateSegment(segment.id, rule=POOR), later)

    assert changed == replace(segment, rule=POOR, version=2, size=1, refreshed_at=later, updated_at=later)
    assert db.tables.segments.segments[segment.id] == changed
    assert members_of(db, segment.id) == {poor}
    assert db.tables.segments.sizes[(segment.id, TODAY + timedelta(days=1))] == 1
    assert rich not in members_of(db, segment.id)
    event = db.tables.audit[-1]
    assert (event.action, event.target_type, event.target_id, event.at) == (
        "updateSegment",
        "Segment",
        segment.id,
        later,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["version"], event.after["version"]) == (1, 2)


async def test_a_new_name_or_description_is_a_new_version_and_matches_nothing_again() -> None:
    db = FakeDatabase()
    await given_members(db, 100)
    segment = await create(db, CreateSegment("Rich", "top", rule=RICH))
    later = NOW + timedelta(hours=1)
    newcomer = await given_member(db, "CRM-9")  # qualifies, but no refresh has run
    await given_lot(db, newcomer.id, 300, FAR)

    renamed = await update(db, UpdateSegment(segment.id, name=" Wealthy "), later)
    described = await update(db, UpdateSegment(segment.id, description=" the very top "), later)

    assert (renamed.name, renamed.description, renamed.version, renamed.size, renamed.updated_at) == (
        "Wealthy",
        "top",
        2,
        1,
        later,
    )
    assert (described.name, described.description, described.version, described.rule) == (
        "Wealthy",
        "the very top",
        3,
        RICH,
    )
    assert described.refreshed_at == NOW
    assert [e.action for e in db.tables.audit] == ["createSegment", "updateSegment", "updateSegment"]


async def test_a_change_to_what_is_already_there_writes_nothing() -> None:
    db = FakeDatabase()
    segment = await create(db, CreateSegment("Rich", "top", rule=RICH))
    before = snapshot(db)

    same = await update(db, UpdateSegment(segment.id, name="Rich", description="top", rule=RICH))

    assert same == segment
    assert db.tables == before


async def test_refused_changes_write_nothing() -> None:
    db = FakeDatabase()
    await given_members(db, 0)
    rules = await create(db, CreateSegment("Rich", rule=RICH))
    static = await create(db, CreateSegment("VIP", external_refs=("CRM-0",)))
    archived = await create(db, CreateSegment("Old", rule=RICH))
    await archive_segment(archived.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock())
    before = snapshot(db)

    errors = [
        await raised(update(db, UpdateSegment(archived.id, name="New"))),
        await raised(update(db, UpdateSegment(static.id, rule=RICH))),
        await raised(update(db, UpdateSegment(404, name="New"))),
        await raised(update(db, UpdateSegment(rules.id, name="n" * 101))),
        await raised(update(db, UpdateSegment(rules.id, description="d" * 501))),
        await raised(update(db, UpdateSegment(rules.id, rule=AllOf(())))),
    ]

    assert [(e.code, e.message, e.field) for e in errors] == [
        (ErrorCode.VALIDATION, "an archived segment cannot change", ("segmentId",)),
        (ErrorCode.VALIDATION, "a static segment has no rules", ("rules",)),
        (ErrorCode.NOT_FOUND, "no such segment", ("segmentId",)),
        (ErrorCode.VALIDATION, "must be at most 100 characters", ("name",)),
        (ErrorCode.VALIDATION, "must be at most 500 characters", ("description",)),
        (ErrorCode.VALIDATION, "`all` needs at least one rule", ("rules", "all")),
    ]
    assert db.tables == before


async def test_a_static_segment_may_be_renamed() -> None:
    db = FakeDatabase()
    await given_members(db, 0)
    static = await create(db, CreateSegment("VIP", external_refs=("CRM-0",)))

    renamed = await update(db, UpdateSegment(static.id, name="Very"))

    assert (renamed.name, renamed.version, renamed.size) == ("Very", 2, 1)


async def test_archiving_stops_refreshes_keeps_members_and_is_done_once() -> None:
    db = FakeDatabase()
    (rich,) = await given_members(db, 100)
    segment = await create(db, CreateSegment("Rich", rule=RICH))
    later = NOW + timedelta(hours=2)

    archived = await archive_segment(segment.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock(later))
    again = await archive_segment(segment.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock(later))
    run = await refresh(db, later)

    assert archived == replace(segment, status=SegmentStatus.ARCHIVED, updated_at=later)
    assert again == archived
    assert members_of(db, segment.id) == {rich}
    assert run == SegmentRefresh(True, 1, 0)
    assert [(e.action, e.target_type, e.target_id, e.at) for e in db.tables.audit] == [
        ("createSegment", "Segment", segment.id, NOW),
        ("archiveSegment", "Segment", segment.id, later),
    ]
    event = db.tables.audit[-1]
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("ACTIVE", "ARCHIVED")
    missing = await raised(archive_segment(404, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock()))
    assert (missing.code, missing.message, missing.field) == (
        ErrorCode.NOT_FOUND,
        "no such segment",
        ("segmentId",),
    )


async def test_an_export_lists_the_members_by_id_and_is_audited_with_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    ids = await given_members(db, 100, 0, 200)
    segment = await create(db, CreateSegment("Rich", rule=RICH))

    exported = await export_segment(segment.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock())

    assert exported == SegmentExport(segment, [(ids[0], "CRM-0"), (ids[2], "CRM-2")])
    event = db.tables.audit[-1]
    assert (event.action, event.target_type, event.target_id, event.at, event.before, event.after) == (
        "exportSegment",
        "Segment",
        segment.id,
        NOW,
        None,
        {"members": 2, "version": 1},
    )
    monkeypatch.setattr(segments_service, "MAX_EXPORT", 1)
    before = snapshot(db)
    too_many = await raised(export_segment(segment.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock()))
    assert (too_many.code, too_many.message, too_many.field) == (
        ErrorCode.VALIDATION,
        "over 1 members: page Segment.members instead",
        ("segmentId",),
    )
    assert db.tables == before
    monkeypatch.setattr(segments_service, "MAX_EXPORT", 2)
    assert (
        len((await export_segment(segment.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock())).members)
        == 2
    )


# --- the refresh job ------------------------------------------------------------------------------


async def test_the_first_run_of_a_day_is_full_then_runs_are_incremental() -> None:
    db = FakeDatabase()
    shop = await given_merchant(db)
    first, second = await given_members(db, 0, 0)
    bought = await create(db, CreateSegment("Bought", rule=BOUGHT))
    await create(db, CreateSegment("Rich", rule=RICH))
    await create(db, CreateSegment("VIP", external_refs=("CRM-1",)))
    await buy(db, clock(), shop.id, first, 10_000, "p-1")

    full = await refresh(db)
    quiet = await refresh(db, NOW + timedelta(minutes=1))
    await buy(db, clock(), shop.id, second, 5_000, "p-2")
    seen: list[int] = []
    incremental = await refresh(db, NOW + timedelta(minutes=2), progress=seen)
    forced = await refresh(db, NOW + timedelta(minutes=3), full=True)
    next_day = await refresh(db, NOW + timedelta(days=1))

    assert full == SegmentRefresh(True, 2, 2)
    assert quiet == SegmentRefresh(False, 0, 0)
    assert (incremental, seen) == (SegmentRefresh(False, 1, 2), [1])
    assert forced == SegmentRefresh(True, 2, 2)
    assert next_day == SegmentRefresh(True, 2, 2)
    assert members_of(db, bought.id) == {first, second}
    assert db.tables.segments.segments[bought.id].size == 2
    assert db.tables.segments.sizes[(bought.id, TODAY + timedelta(days=1))] == 2
    assert db.tables.segments.mark.full_refresh_on == TODAY + timedelta(days=1)
    assert db.tables.segments.segments[bought.id].refreshed_at == NOW + timedelta(days=1)


async def test_an_incremental_run_re_reads_only_the_members_who_bought() -> None:
    db = FakeDatabase()
    shop = await given_merchant(db)
    buyer, idle = await given_members(db, 0, 0)
    rich = await create(db, CreateSegment("Rich", rule=RICH))
    await refresh(db)
    await given_lot(db, idle, 500, FAR)  # qualifies now, but did not buy
    await buy(db, clock(), shop.id, buyer, 20_000, "p-1")  # 200 points

    run = await refresh(db, NOW + timedelta(minutes=1))

    assert run == SegmentRefresh(False, 1, 1)
    assert members_of(db, rich.id) == {buyer}
    assert db.tables.segments.sizes[(rich.id, TODAY)] == 1
    assert db.tables.segments.segments[rich.id].refreshed_at == NOW + timedelta(minutes=1)
    assert (await refresh(db, NOW + timedelta(minutes=2), full=True)).members == 2
    assert members_of(db, rich.id) == {buyer, idle}


async def test_incremental_runs_go_a_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments_service, "BATCH", 2)
    db = FakeDatabase()
    shop = await given_merchant(db)
    ids = await given_members(db, 0, 0, 0)
    segment = await create(db, CreateSegment("Bought", rule=BOUGHT))
    await refresh(db)
    for i, member_id in enumerate(ids):
        await buy(db, clock(), shop.id, member_id, 1_000, f"p-{i}")
    seen: list[int] = []

    run = await refresh(db, NOW + timedelta(minutes=1), progress=seen)

    assert (run, seen) == (SegmentRefresh(False, 3, 1), [2, 3])
    assert members_of(db, segment.id) == set(ids)
    assert db.tables.segments.mark == RefreshMark(max(db.tables.purchases), 0, TODAY)


async def test_spend_counts_in_the_profile_currency() -> None:
    db = FakeDatabase()
    shop = await given_merchant(db)
    spender, other = await given_members(db, 0, 0)
    big = await create(
        db, CreateSegment("Big", rule=Condition(SegmentField.SPEND_30D, Operator.GTE, number=10_000))
    )
    await buy(db, clock(), shop.id, spender, 10_000, "p-1")
    await buy(db, clock(), shop.id, other, 9_999, "p-2")
    await buy(
        db, clock(), shop.id, other, 100_000, "p-3", currency="HKD"
    )  # not CNY: counts as a purchase only

    await refresh(db, full=True)

    assert members_of(db, big.id) == {spender}


async def test_a_member_without_a_tier_is_in_the_entry_tier_or_in_none_without_tiers() -> None:
    db = FakeDatabase()
    (member,) = await given_members(db, 0)
    no_tier = await create(
        db, CreateSegment("No tier", rule=Condition(SegmentField.TIER, Operator.EQ, text=""))
    )
    await create_tier(CreateTier("classic", "Classic", 1), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock())
    classic = await create(
        db, CreateSegment("Classic", rule=Condition(SegmentField.TIER, Operator.EQ, text="CLASSIC"))
    )

    assert members_of(db, no_tier.id) == {member}
    assert members_of(db, classic.id) == {member}
    await refresh(db, full=True)
    assert members_of(db, no_tier.id) == set()
    assert members_of(db, classic.id) == {member}
