"""Notifications over the fakes, value by value: what a notice records and emits, a suppressed one
recorded and not emitted, the expiry job's counts, batches, progress and the members it skips."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.events import EventType
from domain.members import MemberStatus, Profile
from domain.notifications import Decision, NotificationKind, SuppressReason
from domain.services import notifications as service
from domain.services.notifications import NoticeRun, notify, run_expiry_notices
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.notification_tables import NotificationRow
from tests.unit.test_services import given_lot, given_member

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LATE = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)  # in the default quiet hours (UTC)


async def expiry_notices(
    db: FakeDatabase, at: datetime = NOW, progress: list[int] | None = None
) -> NoticeRun:
    told = None if progress is None else progress.append
    return await run_expiry_notices(lambda: FakeUnitOfWork(db), FixedClock(at), progress=told)


async def test_a_sent_notice_is_recorded_and_its_event_carries_the_notice() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    db.tables.members[ann.id] = replace(ann, profile=Profile(time_zone="Asia/Shanghai"))
    async with (uow := FakeUnitOfWork(db)):
        member = await uow.members.get(ann.id)
        assert member is not None
        got = await notify(
            uow, member, db.programme, NotificationKind.TIER_CHANGED, "tier_up", {"toTierId": 2}, "k1", LATE
        )
        await uow.commit()
    # 23:00 UTC is 07:00 in Shanghai: the notice waits for 08:00 there, 00:00 UTC.
    assert got == Decision(True, None, datetime(2024, 3, 2, 0, 0, tzinfo=UTC))
    [row] = db.tables.notifications.notifications.values()
    assert row == NotificationRow(row.id, ann.id, NotificationKind.TIER_CHANGED, "tier_up", "k1", None, LATE)
    [event] = db.tables.outbox
    assert (event.type, event.member_id, event.occurred_at, event.payload) == (
        EventType.NOTIFICATION_REQUESTED,
        ann.id,
        LATE,
        {
            "notificationId": row.id,
            "kind": "TIER_CHANGED",
            "category": "SERVICE",
            "template": "tier_up",
            "parameters": {"toTierId": 2},
            "notBefore": "2024-03-02T00:00:00+00:00",
        },
    )


@pytest.mark.parametrize("status", [MemberStatus.LOCKED, MemberStatus.CLOSED])
async def test_a_notice_to_a_member_that_is_not_active_is_recorded_as_suppressed_and_not_emitted(
    status: MemberStatus,
) -> None:
    db = FakeDatabase()
    ann = await given_member(db, status=status)
    async with (uow := FakeUnitOfWork(db)):
        member = await uow.members.get(ann.id)
        assert member is not None
        got = await notify(uow, member, db.programme, NotificationKind.TIER_CHANGED, "tier_up", {}, "k1", NOW)
        await uow.commit()
    assert got == Decision(False, SuppressReason.NOT_ACTIVE)
    [row] = db.tables.notifications.notifications.values()
    assert (row.member_id, row.kind, row.key, row.reason, row.at) == (
        ann.id,
        NotificationKind.TIER_CHANGED,
        "k1",
        SuppressReason.NOT_ACTIVE,
        NOW,
    )
    assert db.tables.outbox == []


async def test_marketing_with_consent_is_sent_and_counted_for_the_cap_of_that_member_only() -> None:
    # The default programme: three marketing messages in any seven days.
    db = FakeDatabase()
    ann, bob = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    for who in (ann, bob):
        db.tables.members[who.id] = replace(who, marketing_consent=True)

    async def campaign(member_id: int, key: str, at: datetime = NOW) -> Decision | None:
        async with (uow := FakeUnitOfWork(db)):
            member = await uow.members.get(member_id)
            assert member is not None
            got = await notify(uow, member, db.programme, NotificationKind.CAMPAIGN, "nudge", {}, key, at)
            await uow.commit()
        return got

    for i in range(3):
        assert await campaign(ann.id, f"a{i}", NOW + timedelta(days=i)) == Decision(True)
    # Six days after the first, all three are within the week; seven days after it, the first is not.
    assert await campaign(ann.id, "a3", NOW + timedelta(days=6)) == Decision(False, SuppressReason.WEEKLY_CAP)
    assert await campaign(bob.id, "b0", NOW + timedelta(days=6)) == Decision(True)
    assert await campaign(ann.id, "a4", NOW + timedelta(days=7)) == Decision(True)
    assert [e.payload["category"] for e in db.tables.outbox] == ["MARKETING"] * 5


async def test_the_expiry_job_records_each_notice_under_the_member_and_the_day() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    await given_lot(db, ann.id, 300, NOW + timedelta(days=2))
    await given_lot(db, ann.id, 40, NOW + timedelta(days=7))  # the last day within the notice days
    await given_lot(db, ann.id, 99, NOW + timedelta(days=7, seconds=1))  # past them

    assert await expiry_notices(db) == NoticeRun(2, 0)

    rows = sorted(db.tables.notifications.notifications.values(), key=lambda r: r.id)
    assert [(r.member_id, r.kind, r.template, r.key, r.reason, r.at) for r in rows] == [
        (
            ann.id,
            NotificationKind.POINTS_EXPIRING,
            "points_expiring",
            f"expiry:{ann.id}:2024-03-03",
            None,
            NOW,
        ),
        (
            ann.id,
            NotificationKind.POINTS_EXPIRING,
            "points_expiring",
            f"expiry:{ann.id}:2024-03-08",
            None,
            NOW,
        ),
    ]
    assert [(e.member_id, e.payload["template"], e.payload["parameters"]) for e in db.tables.outbox] == [
        (ann.id, "points_expiring", {"points": 300, "expiresOn": "2024-03-03"}),
        (ann.id, "points_expiring", {"points": 40, "expiresOn": "2024-03-08"}),
    ]


async def test_the_expiry_job_counts_the_suppressed_notices_and_skips_members_it_cannot_find() -> None:
    db = FakeDatabase()
    gone = await given_member(db, "CRM-1")
    locked = await given_member(db, "CRM-2", status=MemberStatus.LOCKED)
    ann = await given_member(db, "CRM-3")
    await given_lot(db, gone.id, 10, NOW + timedelta(days=1))
    await given_lot(db, locked.id, 20, NOW + timedelta(days=1))
    await given_lot(db, locked.id, 30, NOW + timedelta(days=2))
    await given_lot(db, ann.id, 40, NOW + timedelta(days=1))
    await given_lot(db, ann.id, 50, NOW + timedelta(days=3))
    del db.tables.members[gone.id]

    progress: list[int] = []
    assert await expiry_notices(db, progress=progress) == NoticeRun(sent=2, suppressed=2)

    assert progress == [3]  # one batch of three members, however many days each
    assert {r.member_id for r in db.tables.notifications.notifications.values()} == {locked.id, ann.id}
    assert [e.member_id for e in db.tables.outbox] == [ann.id, ann.id]


async def test_the_expiry_job_goes_through_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH", 2)
    db = FakeDatabase()
    members = [await given_member(db, f"CRM-{i}") for i in range(5)]
    for m in members:
        await given_lot(db, m.id, 10, NOW + timedelta(days=1))
        await given_lot(db, m.id, 20, NOW + timedelta(days=2))

    progress: list[int] = []
    assert await expiry_notices(db, progress=progress) == NoticeRun(10, 0)

    assert progress == [2, 2, 1]
    assert sorted(e.member_id for e in db.tables.outbox if e.member_id is not None) == sorted(
        m.id for m in members for _ in range(2)
    )
