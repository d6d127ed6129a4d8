"""Offer guards over the fakes: an admin sets them (audited, checked, replacing the old ones), and the
job pauses an offer whose guard trips, once, through the offers' audited status change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from domain.actors import Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.experiments.guards import GuardKind, OfferGuard, RoiReading
from domain.offers import FunderKind, FundingShare, Limits, Mechanic, Offer, OfferStatus, Usage, Window
from domain.services import guards as guards_service
from domain.services.guards import OfferGuards, apply_guard, guard_actor, run_guards, set_offer_guards
from domain.services.offers import change_offer_status, create_offer
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.guards import FakeGuardRepository
from tests.unit.test_services import ADMIN, member_actor, raised, snapshot

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=10)
HALFWAY = START + timedelta(days=5)
BURN = OfferGuard(offer_id=0, kind=GuardKind.BURN_RATE)
ROI = OfferGuard(offer_id=0, kind=GuardKind.ROI, min_participants=50, min_roi_percent=-10)


async def given_offer(db: FakeDatabase, budget_points: int | None = 1000) -> Offer:
    draft = Offer(
        id=0,
        version=0,
        name="Winter bonus",
        mechanic=Mechanic.BONUS_POINTS,
        window=Window(START, END),
        funding=(FundingShare(FunderKind.PROGRAMME, None, 100),),
        points=10,
        limits=Limits(budget_points=budget_points),
    )
    return await create_offer(draft, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START))


def spent(db: FakeDatabase, offer: Offer, points: int) -> None:
    db.tables.offer_usage[offer.id] = Usage(points=points)


async def guard(db: FakeDatabase, offer: Offer, *guards: OfferGuard) -> list[OfferGuard]:
    stored = await set_offer_guards(
        offer.id, guards, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START + timedelta(hours=1))
    )
    return list(stored.guards)


async def run(db: FakeDatabase, at: datetime) -> tuple[int, int]:
    result = await run_guards(lambda: FakeUnitOfWork(db), FixedClock(at))
    return result.checked, result.fired


# --- setOfferGuards --------------------------------------------------------------------------------


async def test_an_admin_sets_guards_and_it_is_audited() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    stored = await guard(db, offer, BURN, ROI)
    assert [(g.kind, g.offer_id, g.fired_at) for g in stored] == [
        (GuardKind.BURN_RATE, offer.id, None),
        (GuardKind.ROI, offer.id, None),
    ]
    event = db.tables.audit[-1]
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "setOfferGuards",
        "admin-ada",
        "Offer",
        offer.id,
    )
    assert event.at == START + timedelta(hours=1)
    assert event.before == {"offer_id": offer.id, "guards": []}
    assert event.after is not None
    assert [g["kind"] for g in event.after["guards"]] == ["BURN_RATE", "ROI"]  # type: ignore[attr-defined]


async def test_setting_guards_again_replaces_them_and_an_empty_list_removes_them() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    await guard(db, offer, BURN, ROI)
    [again] = await guard(db, offer, replace(ROI, min_roi_percent=25))
    assert (again.kind, again.min_roi_percent) == (GuardKind.ROI, 25)
    assert await guard(db, offer) == []
    assert db.tables.guards.guards == {}


async def test_refusals_change_nothing() -> None:
    db = FakeDatabase()
    offer = await given_offer(db, budget_points=None)
    before = snapshot(db)
    refused = await raised(
        set_offer_guards(offer.id, [BURN], actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START))
    )
    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, ("guards", "0", "kind"))
    missing = await raised(
        set_offer_guards(offer.id + 99, [ROI], actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START))
    )
    assert (missing.code, missing.field, missing.message) == (
        ErrorCode.NOT_FOUND,
        ("offerId",),
        "no such offer",
    )
    forbidden = await raised(
        set_offer_guards(
            offer.id, [ROI], actor=member_actor(1), uow=FakeUnitOfWork(db), clock=FixedClock(START)
        )
    )
    assert forbidden.code is ErrorCode.FORBIDDEN
    assert db.tables == before


# --- the job ---------------------------------------------------------------------------------------


async def test_a_burn_rate_guard_pauses_its_offer_once_and_it_is_audited() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    [burn] = await guard(db, offer, BURN)
    spent(db, offer, 500)
    assert await run(db, HALFWAY) == (1, 0)  # exactly on pace
    spent(db, offer, 501)
    assert await run(db, HALFWAY) == (1, 1)
    assert db.tables.offers[offer.id].status is OfferStatus.PAUSED
    fired = db.tables.guards.guards[burn.id]
    assert fired.fired_at == HALFWAY
    assert fired.fired_reason is not None
    assert fired.fired_reason.startswith("501 of a budget of 1,000 points spent in 50% of the window")
    fire, pause = db.tables.audit[-2:]
    assert (fire.action, fire.actor, fire.target_type, fire.target_id, fire.at) == (
        "fireOfferGuard",
        f"offer-guard:{burn.id}:BURN_RATE",
        "Offer",
        offer.id,
        HALFWAY,
    )
    assert fire.before is not None
    assert (fire.before["id"], fire.before["fired_at"], fire.before["fired_reason"]) == (burn.id, None, None)
    assert fire.after is not None
    assert fire.after["fired_reason"] == fired.fired_reason
    assert fire.after["fired_at"] == str(HALFWAY)
    assert pause.at == HALFWAY
    assert (pause.action, pause.actor) == ("pausedOffer", f"offer-guard:{burn.id}:BURN_RATE")
    assert pause.before is not None
    assert pause.after is not None
    assert (pause.before["status"], pause.after["status"]) == ("ACTIVE", "PAUSED")
    # once: resumed by an admin, the fired guard leaves the offer alone however fast it spends
    await change_offer_status(
        offer.id, OfferStatus.ACTIVE, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(HALFWAY)
    )
    spent(db, offer, 900)
    audited = len(db.tables.audit)
    assert await run(db, HALFWAY + timedelta(hours=1)) == (0, 0)
    assert db.tables.offers[offer.id].status is OfferStatus.ACTIVE
    assert len(db.tables.audit) == audited


async def test_setting_the_guard_again_arms_it_again() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    await guard(db, offer, BURN)
    spent(db, offer, 900)
    assert await run(db, HALFWAY) == (1, 1)
    await change_offer_status(
        offer.id, OfferStatus.ACTIVE, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(HALFWAY)
    )
    await guard(db, offer, BURN)
    assert await run(db, HALFWAY) == (1, 1)
    assert db.tables.offers[offer.id].status is OfferStatus.PAUSED


async def test_an_roi_guard_reads_the_campaign_figures() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    await guard(db, offer, ROI)
    assert await run(db, HALFWAY) == (1, 0)  # no figures yet
    db.tables.guards.roi_readings[offer.id] = RoiReading(participants=49, roi=Fraction(-1, 2))
    assert await run(db, HALFWAY) == (1, 0)  # too few participants
    db.tables.guards.roi_readings[offer.id] = RoiReading(participants=50, roi=Fraction(-1, 10))
    assert await run(db, HALFWAY) == (1, 0)  # at the floor, not below
    db.tables.guards.roi_readings[offer.id] = RoiReading(participants=50, roi=Fraction(-101, 1000))
    assert await run(db, HALFWAY) == (1, 1)
    assert db.tables.offers[offer.id].status is OfferStatus.PAUSED
    assert db.tables.audit[-2].actor.endswith(":ROI")


async def test_guards_of_offers_not_live_are_not_looked_at() -> None:
    db = FakeDatabase()
    paused, archived = await given_offer(db), await given_offer(db)
    await guard(db, paused, BURN)
    await guard(db, archived, BURN)
    for offer, status in ((paused, OfferStatus.PAUSED), (archived, OfferStatus.ARCHIVED)):
        await change_offer_status(
            offer.id, status, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START)
        )
        spent(db, offer, 999)
    assert await run(db, HALFWAY) == (0, 0)


async def test_the_job_goes_through_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guards_service, "BATCH", 3)
    db = FakeDatabase()
    offers = [await given_offer(db) for _ in range(7)]
    for offer in offers:
        await guard(db, offer, BURN)
    for offer in offers[::2]:
        spent(db, offer, 800)
    seen: list[int] = []
    result = await run_guards(lambda: FakeUnitOfWork(db), FixedClock(HALFWAY), seen.append)
    assert (result.checked, result.fired) == (7, 4)
    assert seen == [3, 6, 7]
    assert [o.status for o in db.tables.offers.values()] == [OfferStatus.PAUSED, OfferStatus.ACTIVE] * 3 + [
        OfferStatus.PAUSED
    ]


async def test_a_guard_another_process_fired_first_is_not_fired_again() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    [burn] = await guard(db, offer, BURN)
    spent(db, offer, 900)
    # the other process fires the guard between this one's scan (which saw it armed) and its transaction
    db.tables.guards.guards[burn.id] = replace(burn, fired_at=HALFWAY, fired_reason="the other process")
    audited = len(db.tables.audit)
    assert await apply_guard(lambda: FakeUnitOfWork(db), FixedClock(HALFWAY), burn) is False
    assert db.tables.offers[offer.id].status is OfferStatus.ACTIVE
    assert db.tables.guards.guards[burn.id].fired_reason == "the other process"
    assert len(db.tables.audit) == audited


async def test_setting_guards_returns_and_audits_them_for_the_offer_with_what_they_replaced() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    [first] = await guard(db, offer, BURN)
    stored = await set_offer_guards(
        offer.id, [ROI], actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START + timedelta(hours=2))
    )
    assert stored == OfferGuards(offer.id, (replace(ROI, id=stored.guards[0].id, offer_id=offer.id),))
    assert db.tables.guards.created_at[stored.guards[0].id] == START + timedelta(hours=2)
    event = db.tables.audit[-1]
    assert event.before is not None
    assert event.after is not None
    assert [g["id"] for g in event.before["guards"]] == [first.id]  # type: ignore[attr-defined]
    assert event.after["offer_id"] == offer.id


async def test_only_an_roi_guard_reads_the_campaign_figures_and_as_of_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[int, datetime]] = []
    read = FakeGuardRepository.roi_reading

    async def recorded(self: FakeGuardRepository, offer_id: int, at: datetime) -> RoiReading | None:
        asked.append((offer_id, at))
        return await read(self, offer_id, at)

    monkeypatch.setattr(FakeGuardRepository, "roi_reading", recorded)
    db = FakeDatabase()
    offer = await given_offer(db)
    await guard(db, offer, BURN)
    assert await run(db, HALFWAY) == (1, 0)
    assert asked == []
    await guard(db, offer, ROI)
    assert await run(db, HALFWAY) == (1, 0)
    assert asked == [(offer.id, HALFWAY)]


async def test_a_guard_whose_offer_stopped_or_went_since_the_scan_does_not_fire() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    [burn] = await guard(db, offer, BURN)
    spent(db, offer, 900)
    await change_offer_status(
        offer.id, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(START)
    )
    assert await apply_guard(lambda: FakeUnitOfWork(db), FixedClock(HALFWAY), burn) is False
    del db.tables.offers[offer.id]
    assert await apply_guard(lambda: FakeUnitOfWork(db), FixedClock(HALFWAY), burn) is False
    assert db.tables.guards.guards[burn.id].fired_at is None


async def test_the_scan_starts_before_the_first_guard_id() -> None:
    db = FakeDatabase()
    offer = await given_offer(db)
    db.tables.guards.guards[1] = replace(BURN, id=1, offer_id=offer.id)
    assert await run(db, HALFWAY) == (1, 0)


def test_a_guards_pause_is_done_with_an_admins_authority_in_its_own_name() -> None:
    actor = guard_actor(replace(ROI, id=12))
    assert (actor.role, actor.subject) == (Role.ADMIN, "offer-guard:12:ROI")
