"""Triggered campaigns over the fakes: conditions, the admin's use cases, and the consumer's
effects, once per trigger and event however often the event is handled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.events import EventType
from domain.members import Balance, Member
from domain.merchants import Merchant, MerchantCategory, MerchantChannel
from domain.notifications import NotificationKind
from domain.offers import FunderKind, FundingShare, Limits, Mechanic, Offer, Trigger, Window
from domain.services.offers import create_offer
from domain.services.triggers import (
    TriggerInput,
    create_trigger,
    run_reactions,
    run_sign_up_nudges,
    set_trigger_status,
    update_trigger,
)
from domain.triggers import (
    Action,
    ActionKind,
    Condition,
    ConditionKind,
    Facts,
    TriggerStatus,
    holds,
)
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, balance, given_member, member_actor, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
TRAVEL = MerchantCategory.TRAVEL


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def merchant(db: FakeDatabase, category: MerchantCategory, name: str) -> Merchant:
    async with (seed := FakeUnitOfWork(db)):
        made = await seed.merchants.add(
            name=name,
            category=category,
            channel=MerchantChannel.BOTH,
            partner_id=None,
            earn_rate_override=None,
            at=datetime(2023, 1, 1, tzinfo=UTC),
        )
        await seed.commit()
    return made


async def offer(db: FakeDatabase, trigger: Trigger, points: int = 0, **fields: object) -> Offer:
    draft = Offer(
        0,
        0,
        f"{trigger.value.lower()} offer",
        Mechanic.BONUS_POINTS,
        points=points,
        trigger=trigger,
        window=Window(NOW - timedelta(days=1), NOW + timedelta(days=30)),
        funding=(FundingShare(FunderKind.PROGRAMME, None, 100),),
        **fields,  # type: ignore[arg-type]
    )
    return await create_offer(draft, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def trigger(
    db: FakeDatabase, event_type: EventType, conditions: list[Condition], actions: list[Action]
) -> int:
    made = await create_trigger(
        TriggerInput("t", event_type, tuple(conditions), tuple(actions)),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    return made.id


async def react(db: FakeDatabase, at: datetime = NOW) -> int:
    return (await run_reactions(lambda: FakeUnitOfWork(db), FixedClock(at))).firings


def replay(db: FakeDatabase) -> None:
    db.tables.notifications.reacted = 0


def wallet(db: FakeDatabase, member: Member) -> list[int]:
    return [c.offer_id for c in db.tables.coupons.values() if c.member_id == member.id]


# --- conditions -----------------------------------------------------------------------------------


def test_conditions_over_the_facts() -> None:
    facts = Facts(
        segments=frozenset({4}),
        category=TRAVEL,
        earlier_in_category=0,
        available_before=9_950,
        available_after=10_050,
    )
    assert holds(Condition(ConditionKind.IN_SEGMENT, segment_id=4), facts)
    assert not holds(Condition(ConditionKind.IN_SEGMENT, segment_id=5), facts)
    assert holds(Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL), facts)
    assert not holds(Condition(ConditionKind.PURCHASE_CATEGORY, category=MerchantCategory.DINING), facts)
    assert holds(Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL), facts)
    assert not holds(
        Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL), replace(facts, earlier_in_category=1)
    )
    assert holds(Condition(ConditionKind.BALANCE_CROSSES, threshold=10_000), facts)  # 9,950 -> 10,050
    assert holds(Condition(ConditionKind.BALANCE_CROSSES, threshold=10_050), facts)  # reached exactly
    assert not holds(Condition(ConditionKind.BALANCE_CROSSES, threshold=9_950), facts)  # was there before
    assert not holds(Condition(ConditionKind.BALANCE_CROSSES, threshold=10_051), facts)


async def test_admins_only_and_bad_triggers_are_refused_before_anything_is_written(clock: FixedClock) -> None:
    db = FakeDatabase()
    good = TriggerInput("t", EventType.PURCHASE_POSTED, (), (Action(ActionKind.NOTIFY, template="hi"),))
    error = await raised(create_trigger(good, actor=member_actor(1), uow=FakeUnitOfWork(db), clock=clock))
    assert error.code is ErrorCode.FORBIDDEN
    for bad, field in [
        (replace(good, actions=()), ("actions",)),
        (replace(good, actions=(Action(ActionKind.AWARD_POINTS),)), ("actions", "0", "offerId")),
        (replace(good, actions=(Action(ActionKind.AWARD_POINTS, offer_id=99),)), ("actions", "0", "offerId")),
        (
            replace(
                good,
                actions=(
                    Action(ActionKind.NOTIFY, template="x", notification=NotificationKind.TIER_CHANGED),
                ),
            ),
            ("actions", "0", "notification"),
        ),
        (
            replace(
                good,
                event_type=EventType.MEMBER_NO_PURCHASE,
                conditions=(Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL),),
            ),
            ("conditions", "0", "kind"),
        ),
        (
            replace(good, conditions=(Condition(ConditionKind.BALANCE_CROSSES, threshold=0),)),
            ("conditions", "0", "threshold"),
        ),
    ]:
        error = await raised(create_trigger(bad, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock))
        assert error.field == field
    assert db.tables.notifications.triggers == {}
    assert db.tables.audit == []


async def test_create_update_pause_and_resume_are_audited(clock: FixedClock) -> None:
    db = FakeDatabase()
    cmd = TriggerInput("t", EventType.PURCHASE_POSTED, (), (Action(ActionKind.NOTIFY, template="hi"),))
    made = await create_trigger(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    await update_trigger(
        made.id, replace(cmd, name="renamed"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    await set_trigger_status(made.id, TriggerStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    await set_trigger_status(made.id, TriggerStatus.ACTIVE, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    assert [e.action for e in db.tables.audit] == [
        "createTrigger",
        "updateTrigger",
        "pauseTrigger",
        "resumeTrigger",
    ]
    assert db.tables.notifications.triggers[made.id].name == "renamed"


# --- effects --------------------------------------------------------------------------------------


async def test_a_first_travel_purchase_gives_a_hotel_coupon_once(clock: FixedClock) -> None:
    db = FakeDatabase()
    airline, cafe = await merchant(db, TRAVEL, "Air"), await merchant(db, MerchantCategory.DINING, "Cafe")
    hotel = await offer(db, Trigger.PURCHASE, 500, requires_coupon=True)
    trigger_id = await trigger(
        db,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL)],
        [Action(ActionKind.ISSUE_COUPON, offer_id=hotel.id)],
    )
    ann = await given_member(db)
    await buy(db, clock, cafe.id, ann.id, 10_000, "k1")  # not travel
    await buy(db, clock, airline.id, ann.id, 10_000, "k2")  # the first travel purchase
    await buy(db, clock, airline.id, ann.id, 10_000, "k3")  # a second one

    assert await react(db) == 1
    replay(db)
    assert await react(db) == 0  # a replay fires nothing again
    assert wallet(db, ann) == [hotel.id]
    async with (uow := FakeUnitOfWork(db)):
        firings = await uow.triggers.firings(trigger_id)
    assert [(m, o) for _, m, o in firings] == [(ann.id, ["DONE"])]
    assert [e.member_id for e in db.tables.outbox if e.type is EventType.COUPON_ISSUED] == [ann.id]


async def test_an_award_comes_from_the_offers_budget_and_stops_when_it_is_spent(clock: FixedClock) -> None:
    db = FakeDatabase()
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    bonus = await offer(db, Trigger.CAMPAIGN, 300, limits=Limits(budget_points=600))
    await trigger(db, EventType.PURCHASE_POSTED, [], [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id)])
    members = [await given_member(db, f"CRM-{i}") for i in range(3)]
    for i, m in enumerate(members):
        await buy(db, clock, shop.id, m.id, 1_000, f"k{i}")

    assert await react(db) == 3
    replay(db)
    await react(db)
    assert [balance(db, m.id).available for m in members] == [310, 310, 10]
    assert db.tables.offer_usage[bonus.id].points == 600
    assert [a.reason for a in db.tables.member_awards.values()] == ["TRIGGER", "TRIGGER"]
    firings = db.tables.notifications.firings.values()
    assert sorted(o[0] for _, _, o in firings) == ["BUDGET_EXHAUSTED", "DONE", "DONE"]


async def test_a_campaign_offer_is_not_offered_in_the_wallet_nor_given_at_enrolment(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    await offer(db, Trigger.CAMPAIGN, 300)
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    ann = await given_member(db)
    await buy(db, clock, shop.id, ann.id, 1_000, "k")
    assert balance(db, ann.id) == Balance(ann.id, 10, 0, 0, 10, 0)


async def test_a_balance_crossing_ten_thousand_suggests_a_reward_to_a_consenting_member(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    await trigger(
        db,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.BALANCE_CROSSES, threshold=10_000)],
        [
            Action(
                ActionKind.NOTIFY,
                template="reward_suggestion",
                notification=NotificationKind.OFFER_RECOMMENDED,
            )
        ],
    )
    ann = await given_member(db)
    db.tables.members[ann.id] = replace(db.tables.members[ann.id], marketing_consent=True)
    await buy(db, clock, shop.id, ann.id, 600_000, "k1")  # 6,000
    await buy(db, clock, shop.id, ann.id, 500_000, "k2")  # 11,000: crosses
    await react(db)  # handled after both: the balance is 11,000, the second purchase crossed it
    await buy(db, clock, shop.id, ann.id, 100_000, "k3")  # 12,000: above already
    await react(db)
    told = [e.payload for e in db.tables.outbox if e.type is EventType.NOTIFICATION_REQUESTED]
    assert [(p["kind"], p["template"]) for p in told] == [("OFFER_RECOMMENDED", "reward_suggestion")]


async def test_a_paused_trigger_lets_events_go_by(clock: FixedClock) -> None:
    db = FakeDatabase()
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    bonus = await offer(db, Trigger.CAMPAIGN, 300)
    tid = await trigger(
        db, EventType.PURCHASE_POSTED, [], [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id)]
    )
    await set_trigger_status(tid, TriggerStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    ann = await given_member(db)
    await buy(db, clock, shop.id, ann.id, 1_000, "k")
    assert await react(db) == 0
    assert balance(db, ann.id).available == 10


async def test_no_purchase_after_sign_up_nudges_once_with_a_bonus(clock: FixedClock) -> None:
    db = FakeDatabase()
    shop = await merchant(db, MerchantCategory.RETAIL, "Shop")
    bonus = await offer(db, Trigger.CAMPAIGN, 200)
    await trigger(
        db,
        EventType.MEMBER_NO_PURCHASE,
        [],
        [Action(ActionKind.AWARD_POINTS, offer_id=bonus.id), Action(ActionKind.NOTIFY, template="come_back")],
    )
    idle, buyer = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")  # enrolled 2023
    await buy(db, clock, shop.id, buyer.id, 1_000, "k")
    nudge = lambda: run_sign_up_nudges(lambda: FakeUnitOfWork(db), clock)  # noqa: E731
    assert await nudge() == 1
    assert await nudge() == 0
    await react(db)
    replay(db)
    await react(db)
    assert balance(db, idle.id).available == 200
    assert balance(db, buyer.id).available == 10
    # No consent: the nudge's message is suppressed, the bonus still given.
    assert [e.type for e in db.tables.outbox].count(EventType.NOTIFICATION_REQUESTED) == 0
    assert [o for _, _, o in db.tables.notifications.firings.values()] == [["DONE", "SUPPRESSED"]]


async def test_the_nudge_waits_for_the_programmes_days(clock: FixedClock) -> None:
    db = FakeDatabase()
    async with (seed := FakeUnitOfWork(db)):
        from domain.members import Contact, Profile

        await seed.members.add(
            external_ref="NEW",
            profile=Profile(),
            contact=Contact(),
            referral_code="R1",
            referred_by=None,
            at=NOW - timedelta(days=13),
        )
        await seed.commit()
    assert await run_sign_up_nudges(lambda: FakeUnitOfWork(db), clock) == 0
    assert await run_sign_up_nudges(lambda: FakeUnitOfWork(db), FixedClock(NOW + timedelta(days=1))) == 1
