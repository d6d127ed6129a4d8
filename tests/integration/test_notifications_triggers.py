"""Notifications and triggered campaigns on both databases: pre-expiry notices once per member and
day, tier-change notices, and triggers fired by the reactions consumer with exact effects, once per
trigger and event however often the events are handled again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from domain import events
from domain.clock import FixedClock, SystemClock
from domain.events import EventType
from domain.merchants import MerchantCategory
from domain.notifications import NotificationKind
from domain.services.notifications import NoticeRun, run_expiry_notices
from domain.services.triggers import TriggerInput, create_trigger, run_reactions, run_sign_up_nudges
from domain.triggers import Action, ActionKind, Condition, ConditionKind
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario, global_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer, partner
from tests.integration.test_outbox_events import check_against_schemas, outbox
from tests.integration.test_refunds import rows
from tests.unit.test_services import ADMIN


def factory(backend: Backend) -> Any:
    return lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)


async def react(backend: Backend, at: datetime | None = None) -> int:
    return (await run_reactions(factory(backend), FixedClock(at or SystemClock().now()), once=False)).firings


async def replay(backend: Backend) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(text("UPDATE outbox_events SET reacted = false"))


async def trigger(
    backend: Backend, event_type: EventType, conditions: list[Condition], actions: list[Action]
) -> int:
    made = await create_trigger(
        TriggerInput("t", event_type, tuple(conditions), tuple(actions)),
        actor=ADMIN,
        uow=factory(backend)(),
        clock=SystemClock(),
    )
    return made.id


async def bonus_offer(
    given: Scenario, points: int, budget: int | None = None, funding: list[dict[str, Any]] | None = None
) -> int:
    created = await create_offer(
        given,
        name="Campaign bonus",
        mechanic="BONUS_POINTS",
        points=points,
        trigger="CAMPAIGN",
        funding=funding or [{"kind": "PROGRAMME", "percent": 100}],
        limits={"budgetPoints": budget},
        startsAt=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
        endsAt=(datetime.now(UTC) + timedelta(days=30)).isoformat(),
    )
    assert created["errors"] == [], created
    return Ids(created["offer"]["id"]).raw


async def of_type(backend: Backend, type_: str) -> list[dict[str, Any]]:
    return [e for e in await outbox(backend) if e["type"] == type_]


async def test_pre_expiry_notices_once_per_member_and_day(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    ann, bob = await given.member(), await given.member()
    assert (await given.purchase(merchant, ann, 12_000, "p1"))["errors"] == []
    assert (await given.purchase(merchant, ann, 3_000, "p2"))["errors"] == []
    assert (await given.purchase(merchant, bob, 5_000, "p3"))["errors"] == []
    [(expires,)] = await rows(backend, "SELECT min(expires_at) FROM points_lots")
    expires = expires if isinstance(expires, datetime) else datetime.fromisoformat(str(expires))
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    at = expires - timedelta(days=3)

    run = await run_expiry_notices(factory(backend), FixedClock(at))
    again = await run_expiry_notices(factory(backend), FixedClock(at + timedelta(hours=1)))

    assert (run, again) == (NoticeRun(sent=2, suppressed=0), NoticeRun(0, 0))
    told = await of_type(backend, "notification.requested")
    check_against_schemas(told)
    by_member = {e["member_id"]: e["payload"] for e in told}
    assert by_member[ann.raw]["parameters"]["points"] == 150
    assert by_member[bob.raw]["parameters"]["points"] == 50
    assert {p["kind"] for p in by_member.values()} == {"POINTS_EXPIRING"}
    assert await rows(backend, "SELECT count(*) FROM notifications") == [(2,)]


async def test_a_tier_change_is_told_once(backend: Backend, given: Scenario) -> None:
    ann = await given.member()
    async with (uow := factory(backend)()):
        await uow.outbox.add(
            events.tier_changed(
                member_id=ann.raw,
                from_tier_id=None,
                to_tier_id=None,
                reason="DOWNGRADE",
                at=SystemClock().now(),
            )
        )
        await uow.commit()
    await react(backend)
    await replay(backend)
    await react(backend)
    told = await of_type(backend, "notification.requested")
    check_against_schemas(told)
    assert [(e["member_id"], e["payload"]["kind"]) for e in told] == [(ann.raw, "TIER_CHANGED")]


async def test_first_travel_purchase_gives_a_hotel_coupon_and_awards_stay_within_the_budget(
    backend: Backend, given: Scenario
) -> None:
    airline = await given.merchant("Sky Air", category="TRAVEL")
    cafe = await given.merchant("Cafe")
    hotel = await create_offer(
        given,
        name="Harbour Hotel: 20% off",
        mechanic="PERCENT_DISCOUNT",
        percent=20,
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    assert hotel["errors"] == [], hotel
    hotel_id = Ids(hotel["offer"]["id"]).raw
    bank = await partner(given)
    bonus = await bonus_offer(
        given,
        300,
        budget=600,
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 25},
            {"kind": "PROGRAMME", "percent": 75},
        ],
    )
    coupon_trigger = await trigger(
        backend,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.FIRST_IN_CATEGORY, category=MerchantCategory.TRAVEL)],
        [Action(ActionKind.ISSUE_COUPON, offer_id=hotel_id)],
    )
    await trigger(
        backend,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.PURCHASE_CATEGORY, category=MerchantCategory.TRAVEL)],
        [Action(ActionKind.AWARD_POINTS, offer_id=bonus)],
    )
    members = [await given.member() for _ in range(3)]
    for i, m in enumerate(members):
        assert (await given.purchase(cafe, m, 1_000, f"c{i}"))["errors"] == []
        assert (await given.purchase(airline, m, 1_000, f"a{i}"))["errors"] == []
        assert (await given.purchase(airline, m, 1_000, f"b{i}"))["errors"] == []

    assert await react(backend) == 3 + 6  # a coupon each; an award attempt per travel purchase
    await replay(backend)
    assert await react(backend) == 0

    coupons = await rows(
        backend, f"SELECT member_id FROM coupons WHERE offer_id = {hotel_id} ORDER BY member_id"
    )
    assert coupons == [(m.raw,) for m in members]
    assert await rows(backend, f"SELECT points_used, uses FROM offers WHERE id = {bonus}") == [(600, 2)]
    awards = await rows(backend, "SELECT member_id, points, reason FROM member_awards ORDER BY id")
    assert [(p, r) for _, p, r in awards] == [(300, "TRIGGER"), (300, "TRIGGER")]
    balances = [(await given.balance(m))["available"] for m in members]
    assert (
        sorted(balances) == [30, 330, 630]
        or sorted(balances) == [30, 330, 330, 630][:3]
        or sum(balances) == 30 * 3 + 600
    )
    assert sum(balances) == 30 * 3 + 600
    firings = await rows(backend, f"SELECT count(*) FROM trigger_firings WHERE trigger_id = {coupon_trigger}")
    assert firings == [(3,)]
    check_against_schemas(await outbox(backend))

    # The campaign's report counts the triggered awards, each funder's share from their journal entries.
    report = (await given.gql.data(BONUS_REPORT, {"id": global_id("Offer", bonus)}, given.admin))[
        "campaignReport"
    ]
    awarded = {member_id for member_id, _, _ in awards}
    assert report["purchases"] == 0
    assert report["bonuses"] == [
        {
            "reason": "TRIGGER",
            "awards": 2,
            "members": len(awarded),
            "points": 600,
            "funding": [
                {"kind": "PARTNER", "funderId": bank.gid, "points": 150},
                {"kind": "PROGRAMME", "funderId": None, "points": 450},
            ],
        }
    ]
    assert report["usage"]["uses"] == 2


BONUS_REPORT = """query($id: ID!) {
  campaignReport(offerId: $id) {
    purchases bonuses { reason awards members points funding { kind funderId points } } usage { uses }
  }
}"""


async def test_balance_crossing_and_the_sign_up_nudge(backend: Backend, given: Scenario) -> None:
    shop = await given.merchant("Mall", category="RETAIL")
    bonus = await bonus_offer(given, 200)
    await trigger(
        backend,
        EventType.PURCHASE_POSTED,
        [Condition(ConditionKind.BALANCE_CROSSES, threshold=1_000)],
        [
            Action(
                ActionKind.NOTIFY,
                template="reward_suggestion",
                notification=NotificationKind.OFFER_RECOMMENDED,
            )
        ],
    )
    await trigger(
        backend,
        EventType.MEMBER_NO_PURCHASE,
        [],
        [Action(ActionKind.AWARD_POINTS, offer_id=bonus), Action(ActionKind.NOTIFY, template="come_back")],
    )
    ann = await given.member()
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text("UPDATE members SET marketing_consent = true WHERE id = :id"), {"id": ann.raw}
        )
    idle = await given.member()
    for key, amount in (("k1", 60_000), ("k2", 50_000), ("k3", 10_000)):
        assert (await given.purchase(shop, ann, amount, key))["errors"] == []
    later = SystemClock().now() + timedelta(days=15)
    assert await run_sign_up_nudges(factory(backend), FixedClock(later)) == 1
    assert await run_sign_up_nudges(factory(backend), FixedClock(later)) == 0
    await react(backend, later.replace(hour=12))
    await replay(backend)
    await react(backend, later.replace(hour=12))

    told = await of_type(backend, "notification.requested")
    assert [(e["member_id"], e["payload"]["template"]) for e in told] == [(ann.raw, "reward_suggestion")]
    assert (await given.balance(idle))["available"] == 200
    suppressed = await rows(
        backend, "SELECT member_id, suppressed_reason FROM notifications WHERE suppressed_reason IS NOT NULL"
    )
    assert suppressed == [(idle.raw, "NO_CONSENT")]  # the nudge's message: no consent; its bonus given
    nudges = await of_type(backend, "member.no_purchase")
    check_against_schemas(nudges)
    assert [e["member_id"] for e in nudges] == [idle.raw]
