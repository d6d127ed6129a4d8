"""Triggered campaigns over the fakes, in detail: the consumer's batches, which events and triggers
fire, each action's exact effects and outcomes, the admin use cases' records, and the nudge job."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain import events
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.events import Event, EventType
from domain.ledger import OriginType
from domain.members import Contact, Member, MemberStatus, Profile
from domain.merchants import MerchantCategory
from domain.movements import MemberAward
from domain.offers import CapPeriod, Limits, OfferStatus, Trigger, Usage
from domain.segments import Segment, SegmentKind, SegmentStatus
from domain.services.triggers import (
    ReactionRun,
    TriggerInput,
    create_trigger,
    react,
    run_reactions,
    run_sign_up_nudges,
    set_trigger_status,
    update_trigger,
)
from domain.triggers import Action, ActionKind, Condition, ConditionKind, TriggerStatus
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.notifications import FakeTriggerRepository
from tests.unit.fakes.offers import FakeOfferRepository
from tests.unit.fakes.segments import FakeSegmentRepository
from tests.unit.steps import buy
from tests.unit.test_service_triggers import NOW, merchant, offer, replay, trigger, wallet
from tests.unit.test_services import ADMIN, balance, given_member, member_actor, raised

NOTIFY = Action(ActionKind.NOTIFY, template="hi")
IDLE = EventType.MEMBER_NO_PURCHASE


async def emit(db: FakeDatabase, *made: Event) -> None:
    async with (seed := FakeUnitOfWork(db)):
        await seed.outbox.add(*made)
        await seed.commit()


def idle(member_id: int | None, at: datetime = NOW) -> Event:
    # Any event type with a member would do; the nudge's needs no purchase or ledger behind it.
    if member_id is None:
        return events.coupon_issued(member_id=None, offer_id=1, coupon_ids=[], at=at)
    return events.member_no_purchase(member_id=member_id, enrolled_at=NOW, days=14, at=at)


async def run(db: FakeDatabase, *, at: datetime = NOW, limit: int = 100, once: bool = True) -> ReactionRun:
    return await run_reactions(lambda: FakeUnitOfWork(db), FixedClock(at), limit=limit, once=once)


def outcomes(db: FakeDatabase) -> list[list[str]]:
    return [o for _, _, o in db.tables.notifications.firings.values()]


def of_type(db: FakeDatabase, type_: EventType) -> list[Event]:
    return [e for e in db.tables.outbox if e.type is type_]


async def consenting(db: FakeDatabase, ref: str = "CRM-1") -> Member:
    member = await given_member(db, ref)
    db.tables.members[member.id] = replace(member, marketing_consent=True)
    return db.tables.members[member.id]


# --- the consumer's batches -----------------------------------------------------------------------


async def test_a_round_handles_one_batch_and_a_full_run_goes_on_until_a_short_batch() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    await emit(db, *[idle(ann.id) for _ in range(5)])
    # A round by default: one batch.
    assert await run_reactions(lambda: FakeUnitOfWork(db), FixedClock(NOW), limit=2) == ReactionRun(2, 0)
    assert await run(db, limit=2, once=False) == ReactionRun(events=3, firings=0)  # 2, then 1
    assert await run(db, limit=2, once=False) == ReactionRun(events=0, firings=0)
    assert db.tables.notifications.reacted == 5
    await emit(db, *[idle(ann.id) for _ in range(4)])
    assert await run(db, limit=2, once=False) == ReactionRun(events=4, firings=0)  # 2, 2, then none


async def test_a_run_counts_the_firings_of_every_batch() -> None:
    db = FakeDatabase()
    await trigger(db, IDLE, [], [NOTIFY])
    members = [await given_member(db, f"CRM-{i}") for i in range(3)]
    await emit(db, *[idle(m.id) for m in members])
    assert await run(db, limit=2, once=False) == ReactionRun(events=3, firings=3)


async def test_events_without_a_member_or_of_an_unknown_member_fire_nothing() -> None:
    db = FakeDatabase()
    await trigger(db, EventType.COUPON_ISSUED, [], [NOTIFY])
    await trigger(db, IDLE, [], [NOTIFY])
    await emit(db, idle(None), idle(999))
    assert await run(db) == ReactionRun(events=2, firings=0)
    assert db.tables.notifications.firings == {}
    ann = await given_member(db)
    await emit(db, idle(ann.id))
    assert await run(db) == ReactionRun(events=1, firings=1)


async def test_a_tier_change_tells_the_member_once_with_or_without_triggers() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    change = events.tier_changed(member_id=ann.id, from_tier_id=1, to_tier_id=2, reason="QUALIFIED", at=NOW)
    await emit(db, change)
    assert await run(db) == ReactionRun(events=1, firings=0)
    replay(db)
    await run(db)
    [told] = of_type(db, EventType.NOTIFICATION_REQUESTED)
    assert told.member_id == ann.id
    assert (told.payload["kind"], told.payload["template"]) == ("TIER_CHANGED", "tier_changed")
    assert told.payload["parameters"] == {"fromTierId": 1, "toTierId": 2, "reason": "QUALIFIED"}
    assert list(db.tables.notifications.notifications) == [f"tier:{change.id}"]

    await trigger(db, EventType.TIER_CHANGED, [], [NOTIFY])
    again = events.tier_changed(member_id=ann.id, from_tier_id=2, to_tier_id=1, reason="LAPSED", at=NOW)
    await emit(db, again)
    assert await run(db) == ReactionRun(events=1, firings=1)
    assert [e.payload["template"] for e in of_type(db, EventType.NOTIFICATION_REQUESTED)] == [
        "tier_changed",
        "tier_changed",
    ]  # the trigger's message is marketing: no consent, not sent
    assert outcomes(db) == [["SUPPRESSED"]]


async def test_every_matching_trigger_fires_and_the_others_are_passed_over() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    db.tables.segments.segments[7] = Segment(
        7, "s", None, SegmentKind.STATIC, None, SegmentStatus.ACTIVE, 1, 1, None, NOW, NOW
    )
    db.tables.segments.members[7] = {ann.id}
    elsewhere = await trigger(db, IDLE, [Condition(ConditionKind.IN_SEGMENT, segment_id=8)], [NOTIFY])
    anyone = await trigger(db, IDLE, [], [NOTIFY])
    in_seven = await trigger(db, IDLE, [Condition(ConditionKind.IN_SEGMENT, segment_id=7)], [NOTIFY])
    await emit(db, idle(ann.id))
    assert await run(db) == ReactionRun(events=1, firings=2)
    assert sorted(t for t, _ in db.tables.notifications.firings) == [anyone, in_seven]
    assert elsewhere not in {t for t, _ in db.tables.notifications.firings}


async def test_a_replay_fires_only_the_triggers_added_since() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    first = await trigger(db, IDLE, [], [NOTIFY])
    await emit(db, idle(ann.id))
    assert await run(db) == ReactionRun(events=1, firings=1)
    second = await trigger(db, IDLE, [], [NOTIFY])
    replay(db)
    assert await run(db) == ReactionRun(events=1, firings=1)
    assert sorted(t for t, _ in db.tables.notifications.firings) == [first, second]


async def test_purchase_conditions_fail_for_an_unknown_merchant_or_a_purchase_that_moved_no_points() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    travel = MerchantCategory.TRAVEL
    await trigger(
        db, EventType.PURCHASE_POSTED, [Condition(ConditionKind.PURCHASE_CATEGORY, category=travel)], [NOTIFY]
    )
    await trigger(
        db, EventType.PURCHASE_POSTED, [Condition(ConditionKind.FIRST_IN_CATEGORY, category=travel)], [NOTIFY]
    )
    await trigger(
        db, EventType.PURCHASE_POSTED, [Condition(ConditionKind.BALANCE_CROSSES, threshold=1)], [NOTIFY]
    )
    posted = posted_at_unknown_merchant(ann.id)
    await emit(db, posted)
    assert await run(db) == ReactionRun(events=1, firings=0)


# --- actions --------------------------------------------------------------------------------------


async def test_a_notification_names_the_trigger_and_offer_and_is_keyed_by_trigger_event_and_template() -> (
    None
):
    db = FakeDatabase()
    ann = await consenting(db)
    bonus = await offer(db, Trigger.CAMPAIGN, 100)
    tid = await trigger(
        db,
        IDLE,
        [],
        [
            Action(ActionKind.NOTIFY, template="a", offer_id=bonus.id),
            Action(ActionKind.NOTIFY, template="a"),  # the same key: decided on already
            Action(ActionKind.NOTIFY, template="b"),
        ],
    )
    nudge = idle(ann.id)
    await emit(db, nudge)
    await run(db)
    assert outcomes(db) == [["DONE", "SUPPRESSED", "DONE"]]
    told = of_type(db, EventType.NOTIFICATION_REQUESTED)
    assert [(e.payload["template"], e.payload["kind"], e.payload["parameters"]) for e in told] == [
        ("a", "CAMPAIGN", {"triggerId": tid, "offerId": bonus.id}),
        ("b", "CAMPAIGN", {"triggerId": tid, "offerId": None}),
    ]
    assert sorted(db.tables.notifications.notifications) == [
        f"trigger:{tid}:{nudge.id}:a",
        f"trigger:{tid}:{nudge.id}:b",
    ]


async def given_award_and_coupon(db: FakeDatabase) -> tuple[int, int]:
    bonus = await offer(db, Trigger.CAMPAIGN, 300)
    hotel = await offer(db, Trigger.PURCHASE, 500, requires_coupon=True)
    await trigger(
        db,
        IDLE,
        [],
        [
            Action(ActionKind.AWARD_POINTS, offer_id=bonus.id),
            Action(ActionKind.ISSUE_COUPON, offer_id=hotel.id),
        ],
    )
    return bonus.id, hotel.id


async def test_awards_and_coupons_of_live_offers_to_an_active_member_are_done() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    await given_award_and_coupon(db)
    await emit(db, idle(ann.id))
    await run(db)
    assert outcomes(db) == [["DONE", "DONE"]]


async def test_an_action_whose_offer_or_member_is_not_live_gives_nothing() -> None:
    after_the_window = NOW + timedelta(days=31)
    for case in ["paused", "archived", "gone", "ended", "locked"]:
        db = FakeDatabase()
        ann = await given_member(db, status=MemberStatus.LOCKED if case == "locked" else None)
        offer_ids = await given_award_and_coupon(db)
        for offer_id in offer_ids:
            if case in ("paused", "archived"):
                status = OfferStatus.PAUSED if case == "paused" else OfferStatus.ARCHIVED
                db.tables.offers[offer_id] = replace(db.tables.offers[offer_id], status=status)
            if case == "gone":
                del db.tables.offers[offer_id]
        at = after_the_window if case == "ended" else NOW
        await emit(db, idle(ann.id, at))
        await run(db, at=at)
        assert outcomes(db) == [["OFFER_NOT_LIVE", "OFFER_NOT_LIVE"]], case
        assert wallet(db, ann) == [], case
        assert db.tables.member_awards == {}, case
        assert ann.id not in db.tables.balances or balance(db, ann.id).available == 0, case


async def test_a_coupon_is_one_single_use_code_of_the_offer_claimed_into_the_members_wallet() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    hotel = await offer(db, Trigger.PURCHASE, 500, requires_coupon=True)
    await trigger(db, IDLE, [], [Action(ActionKind.ISSUE_COUPON, offer_id=hotel.id)])
    await emit(db, idle(ann.id))
    await run(db)
    [coupon] = db.tables.coupons.values()
    assert (coupon.offer_id, coupon.member_id, coupon.max_uses, coupon.uses) == (hotel.id, ann.id, 1, 0)
    assert re.fullmatch(r"[A-Z0-9]{12}", coupon.code)  # a fresh code, as generated coupons have
    [issued] = of_type(db, EventType.COUPON_ISSUED)
    assert (issued.member_id, issued.occurred_at) == (ann.id, NOW)
    assert issued.payload == {"offerId": hotel.id, "couponIds": [coupon.id]}


async def test_an_award_is_the_offers_member_award_booked_to_the_member_and_announced() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    bonus = await offer(db, Trigger.CAMPAIGN, 300)
    await trigger(db, IDLE, [], [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id)])
    await emit(db, idle(ann.id))
    await run(db)
    [award] = db.tables.member_awards.values()
    assert award == MemberAward(award.id, ann.id, bonus.id, "TRIGGER", 300, None, NOW)
    assert db.tables.offer_usage[bonus.id] == Usage(points=300, money_minor=0, uses=1)
    [posted] = [p for p in db.tables.journal.values() if p.entry.origin_type is OriginType.AWARD]
    assert (posted.entry.member_id, posted.entry.origin_id, posted.at) == (ann.id, award.id, NOW)
    assert posted.entry.description == "Campaign bonus: campaign offer"
    [lot] = [lot for lot in db.tables.lots.values() if lot.member_id == ann.id]
    assert (lot.points, lot.remaining, lot.earned_at) == (300, 300, NOW)
    assert lot.expires_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the programme's 24 months
    assert balance(db, ann.id).available == 300
    [awarded] = of_type(db, EventType.OFFER_AWARDED)
    assert (awarded.member_id, awarded.occurred_at) == (ann.id, NOW)
    assert awarded.payload == {
        "offerId": bonus.id,
        "purchaseId": None,
        "points": 300,
        "discountMinor": 0,
        "cashbackMinor": 0,
    }


async def test_an_award_past_the_offers_member_or_global_cap_is_limit_reached() -> None:
    for limits in [Limits(per_member=1), Limits(max_uses=1)]:
        db = FakeDatabase()
        ann = await given_member(db)
        bonus = await offer(db, Trigger.CAMPAIGN, 300, limits=limits)
        await trigger(db, IDLE, [], [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id)])
        await emit(db, idle(ann.id), idle(ann.id))
        await run(db)
        assert outcomes(db) == [["DONE"], ["LIMIT_REACHED"]], limits
        assert balance(db, ann.id).available == 300, limits


async def test_a_monthly_member_cap_lets_one_award_a_month() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    bonus = await offer(
        db, Trigger.CAMPAIGN, 300, limits=Limits(per_member=1, per_member_period=CapPeriod.MONTH)
    )
    db.tables.offers[bonus.id] = bonus = replace(
        bonus, window=replace(bonus.window, ends_at=NOW + timedelta(days=90))
    )
    await trigger(db, IDLE, [], [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id)])
    april = datetime(2024, 4, 2, 12, 0, tzinfo=UTC)
    await emit(db, idle(ann.id), idle(ann.id))
    await run(db)  # March: the first given, the second refused
    await emit(db, idle(ann.id, april), idle(ann.id, april))
    await run(db, at=april)  # April: a new period
    assert outcomes(db) == [["DONE"], ["LIMIT_REACHED"], ["DONE"], ["LIMIT_REACHED"]]
    assert balance(db, ann.id).available == 600


# --- the admin's use cases ------------------------------------------------------------------------


async def test_a_created_trigger_has_a_stripped_name_and_is_audited_with_its_definition() -> None:
    db = FakeDatabase()
    clock = FixedClock(NOW)
    cmd = TriggerInput("  Welcome  ", IDLE, (), (NOTIFY,))
    made = await create_trigger(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    assert (made.name, made.event_type, made.conditions, made.actions) == ("Welcome", IDLE, (), (NOTIFY,))
    assert (made.status, made.created_at, made.updated_at) == (TriggerStatus.ACTIVE, NOW, NOW)
    assert db.tables.notifications.triggers == {made.id: made}
    [audit] = db.tables.audit
    assert (audit.actor, audit.action, audit.target_type, audit.target_id) == (
        "admin-ada",
        "createTrigger",
        "Trigger",
        made.id,
    )
    assert (audit.before, audit.request_id, audit.at) == (None, "req-1", NOW)
    assert audit.after is not None
    assert audit.after["name"] == "Welcome"


async def test_an_unknown_offer_in_any_action_is_not_found() -> None:
    db = FakeDatabase()
    bonus = await offer(db, Trigger.CAMPAIGN, 100)
    actions = (
        Action(ActionKind.AWARD_POINTS, offer_id=bonus.id),
        Action(ActionKind.ISSUE_COUPON, offer_id=999),
    )
    error = await raised(
        create_trigger(
            TriggerInput("t", IDLE, (), actions), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )
    assert (error.code, error.message, error.field) == (
        ErrorCode.NOT_FOUND,
        "no such offer",
        ("actions", "1", "offerId"),
    )
    assert db.tables.notifications.triggers == {}


async def test_an_update_replaces_the_definition_and_keeps_the_status_and_creation() -> None:
    db = FakeDatabase()
    cmd = TriggerInput("t", IDLE, (), (NOTIFY,))
    made = await create_trigger(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    later = NOW + timedelta(hours=1)
    paused = await set_trigger_status(
        made.id, TriggerStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(later)
    )
    assert (paused.status, paused.updated_at) == (TriggerStatus.PAUSED, later)
    segment = Condition(ConditionKind.IN_SEGMENT, segment_id=3)
    travel = Condition(ConditionKind.PURCHASE_CATEGORY, category=MerchantCategory.TRAVEL)  # purchases only
    shop_news = Action(ActionKind.NOTIFY, template="news")
    latest = NOW + timedelta(hours=2)
    after = await update_trigger(
        made.id,
        TriggerInput(" renamed ", EventType.PURCHASE_POSTED, (segment, travel), (shop_news,)),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(latest),
    )
    assert after == replace(
        paused,
        name="renamed",
        event_type=EventType.PURCHASE_POSTED,
        conditions=(segment, travel),
        actions=(shop_news,),
        updated_at=latest,
    )
    assert db.tables.notifications.triggers[made.id] == after
    update = db.tables.audit[-1]
    assert (update.action, update.target_type, update.target_id, update.at) == (
        "updateTrigger",
        "Trigger",
        made.id,
        latest,
    )
    assert update.before is not None
    assert update.after is not None
    assert (update.before["name"], update.after["name"]) == ("t", "renamed")


async def test_an_update_of_an_unknown_trigger_or_to_an_unknown_offer_changes_nothing() -> None:
    db = FakeDatabase()
    cmd = TriggerInput("t", IDLE, (), (NOTIFY,))
    made = await create_trigger(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    error = await raised(update_trigger(999, cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)))
    assert (error.code, error.message, error.field) == (
        ErrorCode.NOT_FOUND,
        "no such trigger",
        ("triggerId",),
    )
    award = replace(cmd, actions=(Action(ActionKind.AWARD_POINTS, offer_id=999),))
    error = await raised(
        update_trigger(made.id, award, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, ("actions", "0", "offerId"))
    error = await raised(
        update_trigger(
            made.id, replace(cmd, name=""), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )
    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("name",))
    assert db.tables.notifications.triggers == {made.id: made}
    assert [a.action for a in db.tables.audit] == ["createTrigger"]


async def test_only_admins_update_pause_or_resume_a_trigger() -> None:
    db = FakeDatabase()
    cmd = TriggerInput("t", IDLE, (), (NOTIFY,))
    made = await create_trigger(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    ann = member_actor(1)
    for use_case in [
        update_trigger(made.id, cmd, actor=ann, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)),
        set_trigger_status(
            made.id, TriggerStatus.PAUSED, actor=ann, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        ),
    ]:
        assert (await raised(use_case)).code is ErrorCode.FORBIDDEN
    assert db.tables.notifications.triggers == {made.id: made}


async def test_setting_the_status_a_trigger_has_changes_and_audits_nothing() -> None:
    db = FakeDatabase()
    made = await create_trigger(
        TriggerInput("t", IDLE, (), (NOTIFY,)), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    later = FixedClock(NOW + timedelta(hours=1))
    same = await set_trigger_status(
        made.id, TriggerStatus.ACTIVE, actor=ADMIN, uow=FakeUnitOfWork(db), clock=later
    )
    assert same == made
    assert db.tables.notifications.triggers == {made.id: made}
    assert [a.action for a in db.tables.audit] == ["createTrigger"]
    error = await raised(
        set_trigger_status(999, TriggerStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=later)
    )
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, ("triggerId",))


async def test_pause_and_resume_are_audited_with_the_status_either_side() -> None:
    db = FakeDatabase()
    made = await create_trigger(
        TriggerInput("t", IDLE, (), (NOTIFY,)), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    later = NOW + timedelta(hours=1)
    for status in [TriggerStatus.PAUSED, TriggerStatus.ACTIVE]:
        await set_trigger_status(
            made.id, status, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(later)
        )
    pause, resume = db.tables.audit[1:]
    assert isinstance(pause, AuditEvent)
    for audited, action, before, after in [
        (pause, "pauseTrigger", "ACTIVE", "PAUSED"),
        (resume, "resumeTrigger", "PAUSED", "ACTIVE"),
    ]:
        assert (audited.action, audited.target_type, audited.target_id, audited.at) == (
            action,
            "Trigger",
            made.id,
            later,
        )
        assert audited.before is not None
        assert audited.after is not None
        assert (audited.before["status"], audited.after["status"]) == (before, after)
    assert db.tables.notifications.triggers[made.id] == replace(made, updated_at=later)


# --- the sign-up nudge ----------------------------------------------------------------------------


async def test_each_idle_member_is_told_once_with_the_programmes_days() -> None:
    db = FakeDatabase(replace(FakeDatabase().tables.programme, sign_up_nudge_days=3))
    enrolled = NOW - timedelta(days=3)
    async with (seed := FakeUnitOfWork(db)):
        ids = [
            (
                await seed.members.add(
                    external_ref=f"M{i}",
                    profile=Profile(),
                    contact=Contact(),
                    referral_code=f"R{i}",
                    referred_by=None,
                    at=enrolled,
                )
            ).id
            for i in range(2)
        ]
        await seed.commit()
    assert await run_sign_up_nudges(lambda: FakeUnitOfWork(db), FixedClock(NOW)) == 2
    told = of_type(db, EventType.MEMBER_NO_PURCHASE)
    assert [(e.member_id, e.occurred_at, e.payload) for e in told] == [
        (i, NOW, {"enrolledAt": enrolled.isoformat(), "days": 3}) for i in ids
    ]
    assert await run_sign_up_nudges(lambda: FakeUnitOfWork(db), FixedClock(NOW)) == 0


# --- what the consumer reads ----------------------------------------------------------------------


def calls_to(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[tuple[object, ...]]:
    """Record each call of a fake repository's method (its arguments), still calling it."""
    calls: list[tuple[object, ...]] = []
    original = getattr(cls, name)

    async def recorded(self: object, *args: object) -> object:
        calls.append(args)
        return await original(self, *args)

    monkeypatch.setattr(cls, name, recorded)
    return calls


async def test_the_active_triggers_are_read_once_per_batch_and_event_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    tid = await trigger(db, IDLE, [], [NOTIFY])
    await emit(db, idle(ann.id), idle(ann.id), idle(None), idle(ann.id))
    reads = calls_to(monkeypatch, FakeTriggerRepository, "active_for")
    fired = calls_to(monkeypatch, FakeTriggerRepository, "fire")
    assert await run(db, at=NOW + timedelta(hours=1)) == ReactionRun(events=4, firings=3)
    assert reads == [(IDLE,)]  # the event with no member reads none
    ids = [e.id for e in db.tables.outbox if e.member_id == ann.id][:3]
    assert fired == [(tid, i, ann.id, NOW + timedelta(hours=1)) for i in ids]


async def test_react_alone_reads_the_active_triggers_itself() -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    await trigger(db, IDLE, [], [NOTIFY])
    async with (uow := FakeUnitOfWork(db)):
        assert await react(uow, idle(ann.id), NOW) == 1
        await uow.commit()
    assert outcomes(db) == [["SUPPRESSED"]]


async def test_the_consumer_reads_only_the_facts_the_conditions_need(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    ann = await given_member(db)
    segments = calls_to(monkeypatch, FakeSegmentRepository, "member_segments")
    earlier = calls_to(monkeypatch, FakeTriggerRepository, "earlier_in_category")
    around = calls_to(monkeypatch, FakeTriggerRepository, "available_around")
    await trigger(db, EventType.PURCHASE_POSTED, [], [NOTIFY])
    await buy(db, FixedClock(NOW), shop.id, ann.id, 1_000, "k1")
    assert await run(db) == ReactionRun(events=1, firings=1)
    assert (segments, earlier, around) == ([], [], [])
    # A first-in-category condition asks for the earlier purchases only when the merchant has one.
    await trigger(
        db,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.FIRST_IN_CATEGORY, category=MerchantCategory.TRAVEL)],
        [NOTIFY],
    )
    await emit(db, posted_at_unknown_merchant(ann.id))
    await run(db)
    assert (segments, earlier, around) == ([], [], [])


def posted_at_unknown_merchant(member_id: int) -> Event:
    return events.purchase_posted(
        member_id=member_id,
        purchase_id=999,  # no journal entry of it: the balance did not move
        merchant_id=999,  # no such merchant: no category
        amount_minor=100,
        currency="CNY",
        channel="POS",
        points=0,
        pending=False,
        held=False,
        purchased_at=NOW,
        at=NOW,
    )


async def test_a_coupon_is_made_and_claimed_at_the_events_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    ann = await given_member(db)
    hotel = await offer(db, Trigger.PURCHASE, 500, requires_coupon=True)
    await trigger(db, IDLE, [], [Action(ActionKind.ISSUE_COUPON, offer_id=hotel.id)])
    made = calls_to(monkeypatch, FakeOfferRepository, "add_coupons")
    claimed = calls_to(monkeypatch, FakeOfferRepository, "claim_coupon")
    await emit(db, idle(ann.id))
    later = NOW + timedelta(hours=1)
    await run(db, at=later)
    [coupon] = db.tables.coupons.values()
    assert made == [(hotel.id, [coupon.code], 1, later)]
    assert claimed == [(coupon.code, ann.id, later)]


async def test_the_nudge_job_reads_idle_members_a_hundred_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    enrolled = NOW - timedelta(days=20)
    async with (seed := FakeUnitOfWork(db)):
        ids = [
            (
                await seed.members.add(
                    external_ref=f"M{i}",
                    profile=Profile(),
                    contact=Contact(),
                    referral_code=f"R{i}",
                    referred_by=None,
                    at=enrolled,
                )
            ).id
            for i in range(101)
        ]
        await seed.commit()
    reads = calls_to(monkeypatch, FakeTriggerRepository, "without_purchase")
    marks = calls_to(monkeypatch, FakeTriggerRepository, "mark_nudged")
    assert await run_sign_up_nudges(lambda: FakeUnitOfWork(db), FixedClock(NOW)) == 101
    cutoff = NOW - timedelta(days=14)
    assert reads == [(cutoff, 0, 100), (cutoff, ids[99], 100), (cutoff, ids[100], 100)]
    assert marks == [(i, NOW) for i in ids]
    assert [e.member_id for e in of_type(db, EventType.MEMBER_NO_PURCHASE)] == ids
