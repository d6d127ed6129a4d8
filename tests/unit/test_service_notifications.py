"""Notifications over the fakes: pre-expiry notices once per member and expiry day, tier-change
notices from the event, the marketing rules applied before anything is emitted, and the member's
time zone on its profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain import events
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.events import EventType
from domain.members import Profile
from domain.notifications import NotificationKind, SuppressReason
from domain.services.notifications import NoticeRun, notify, run_expiry_notices
from domain.services.profile import UpdateMyProfile, update_my_profile
from domain.services.triggers import run_reactions
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import given_lot, given_member, member_actor, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai, 12:00 in London: no one's quiet hours


async def notices(db: FakeDatabase, at: datetime = NOW) -> NoticeRun:
    return await run_expiry_notices(lambda: FakeUnitOfWork(db), FixedClock(at))


def requested(db: FakeDatabase) -> list[dict[str, object]]:
    return [e.payload for e in db.tables.outbox if e.type is EventType.NOTIFICATION_REQUESTED]


async def test_one_notice_per_member_and_expiry_day_within_the_notice_days_and_never_twice() -> None:
    db = FakeDatabase()
    ann, bob = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    await given_lot(db, ann.id, 300, NOW + timedelta(days=5))
    await given_lot(db, ann.id, 200, NOW + timedelta(days=5, hours=1))  # the same day: one notice
    await given_lot(db, ann.id, 50, NOW + timedelta(days=6, hours=12))  # another day: its own
    await given_lot(db, bob.id, 70, NOW + timedelta(days=8))  # past the 7 days: not yet

    assert await notices(db) == NoticeRun(sent=2, suppressed=0)
    assert [(p["kind"], p["parameters"]) for p in requested(db)] == [
        ("POINTS_EXPIRING", {"points": 500, "expiresOn": "2024-03-06"}),
        ("POINTS_EXPIRING", {"points": 50, "expiresOn": "2024-03-08"}),
    ]
    assert {e.member_id for e in db.tables.outbox if e.type is EventType.NOTIFICATION_REQUESTED} == {ann.id}

    assert await notices(db) == NoticeRun(0, 0)  # a second run tells no one again
    assert await notices(db, NOW + timedelta(days=1)) == NoticeRun(1, 0)  # Bob's day is now within 7
    assert len(requested(db)) == 3


async def test_the_notice_days_are_a_programme_setting() -> None:
    db = FakeDatabase()
    db.tables.programme = replace(db.tables.programme, expiry_notice_days=10)
    ann = await given_member(db)
    await given_lot(db, ann.id, 70, NOW + timedelta(days=8))
    assert await notices(db) == NoticeRun(1, 0)


async def test_a_service_notice_ignores_consent_and_waits_out_the_members_quiet_hours() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    db.tables.members[ann.id] = replace(ann, profile=Profile(time_zone="Asia/Shanghai"))
    await given_lot(db, ann.id, 300, NOW + timedelta(days=3))
    late = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert await notices(db, late) == NoticeRun(1, 0)
    assert requested(db)[0]["notBefore"] == "2024-03-02T00:00:00+00:00"  # 08:00 in Shanghai


async def test_marketing_is_suppressed_without_consent_in_quiet_hours_and_past_the_cap_and_recorded() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    uow = FakeUnitOfWork(db)

    async def campaign(key: str, at: datetime = NOW) -> SuppressReason | None:
        async with uow:
            member = await uow.members.get(ann.id)
            assert member is not None
            got = await notify(uow, member, db.programme, NotificationKind.CAMPAIGN, "nudge", {}, key, at)
            await uow.commit()
        assert got is not None
        return got.reason

    assert await campaign("c1") is SuppressReason.NO_CONSENT
    db.tables.members[ann.id] = replace(ann, marketing_consent=True)
    assert await campaign("c2", datetime(2024, 3, 1, 23, 0, tzinfo=UTC)) is SuppressReason.QUIET_HOURS  # UTC
    assert [await campaign(f"c{i}") for i in range(3, 6)] == [None, None, None]
    assert await campaign("c6") is SuppressReason.WEEKLY_CAP
    assert await campaign("c7", NOW + timedelta(days=7)) is None  # a week later the cap has room again
    assert len(requested(db)) == 4
    async with uow:
        assert await uow.notifications.suppressed_counts(NOW - timedelta(days=1)) == {
            (NotificationKind.CAMPAIGN, SuppressReason.NO_CONSENT): 1,
            (NotificationKind.CAMPAIGN, SuppressReason.QUIET_HOURS): 1,
            (NotificationKind.CAMPAIGN, SuppressReason.WEEKLY_CAP): 1,
        }
        # The same key is decided once: nothing recorded, nothing emitted.
        member = await uow.members.get(ann.id)
        assert member is not None
        assert (
            await notify(uow, member, db.programme, NotificationKind.CAMPAIGN, "nudge", {}, "c3", NOW) is None
        )


async def test_a_tier_change_tells_the_member_once_however_often_the_event_is_handled() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    async with (uow := FakeUnitOfWork(db)):
        await uow.outbox.add(
            events.tier_changed(member_id=ann.id, from_tier_id=None, to_tier_id=2, reason="UPGRADE", at=NOW)
        )
        await uow.commit()
    await run_reactions(lambda: FakeUnitOfWork(db), FixedClock(NOW))
    db.tables.notifications.reacted = 0  # a replay
    await run_reactions(lambda: FakeUnitOfWork(db), FixedClock(NOW))
    told = requested(db)
    assert [(p["kind"], p["category"], p["parameters"]) for p in told] == [
        ("TIER_CHANGED", "SERVICE", {"fromTierId": None, "toTierId": 2, "reason": "UPGRADE"})
    ]


async def test_the_member_sets_its_time_zone_an_iana_name() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    clock = FixedClock(NOW)
    changed = await update_my_profile(
        UpdateMyProfile(time_zone="Europe/Paris"),
        actor=member_actor(ann.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert changed.profile.time_zone == "Europe/Paris"
    error = await raised(
        update_my_profile(
            UpdateMyProfile(time_zone="Europe/Atlantis"),
            actor=member_actor(ann.id),
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )
    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("profile", "timeZone"))
    assert db.tables.members[ann.id].profile.time_zone == "Europe/Paris"


@pytest.mark.parametrize("zone", [None, "Asia/Shanghai"])
async def test_a_notice_carries_no_personal_data(zone: str | None) -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    db.tables.members[ann.id] = replace(ann, profile=Profile(time_zone=zone))
    await given_lot(db, ann.id, 300, NOW + timedelta(days=3))
    await notices(db)
    assert set(requested(db)[0]) == {
        "notificationId",
        "kind",
        "category",
        "template",
        "parameters",
        "notBefore",
    }
