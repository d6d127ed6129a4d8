"""Triggers, notification settings and members' time zones over GraphQL: admins only, audited, bad
input a typed error that changes nothing; and a trigger made here fires from the consumer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from domain.clock import FixedClock, SystemClock
from domain.services.triggers import run_reactions
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer
from tests.integration.test_refunds import rows

CREATE = """mutation($i: CreateTriggerInput!) {
  createTrigger(input: $i) {
    trigger { id name eventType status conditions { kind category threshold segmentId }
              actions { kind offerId template notification } }
    errors { code field message }
  }
}"""
PAUSE = """mutation($i: PauseTriggerInput!) {
  pauseTrigger(input: $i) { trigger { status } errors { code field } }
}"""
RESUME = """mutation($i: ResumeTriggerInput!) {
  resumeTrigger(input: $i) { trigger { status } errors { code field } }
}"""
UPDATE = """mutation($i: UpdateTriggerInput!) {
  updateTrigger(input: $i) { trigger { name } errors { code field } }
}"""
LIST = "{ triggers { id name status } }"
SUPPRESSED = 'query { notificationSuppressions(since: "2020-01-01T00:00:00Z") { kind reason count } }'
PROGRAMME = """mutation($i: UpdateProgrammeInput!) {
  updateProgramme(input: $i) {
    programme { expiryNoticeDays marketingPerWeek quietHoursStart quietHoursEnd signUpNudgeDays }
    errors { code field }
  }
}"""
PROFILE = """mutation($i: UpdateMyProfileInput!) {
  updateMyProfile(input: $i) { member { profile { timeZone } } errors { code field } }
}"""


def definition(offer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "First trip: a hotel coupon",
        "eventType": "purchase.posted",
        "conditions": [{"kind": "FIRST_IN_CATEGORY", "category": "TRAVEL"}],
        "actions": [{"kind": "ISSUE_COUPON", "offerId": offer_id}],
    } | changes


async def test_admins_define_pause_and_list_triggers_and_a_trigger_fires(
    backend: Backend, given: Scenario
) -> None:
    hotel = await create_offer(
        given,
        name="Hotel",
        mechanic="PERCENT_DISCOUNT",
        percent=20,
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    offer_id = hotel["offer"]["id"]
    member = await given.member()

    refused = await given.gql.post(
        CREATE, {"i": {"trigger": definition(offer_id)}}, given.tokens.member(member.raw)
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await given.gql.data(
        CREATE, {"i": {"trigger": definition(offer_id, eventType="purchase.eaten")}}, given.admin
    )
    assert bad["createTrigger"]["errors"][0]["field"] == ["trigger", "eventType"]
    no_offer = await given.gql.data(
        CREATE, {"i": {"trigger": definition(offer_id, actions=[{"kind": "AWARD_POINTS"}])}}, given.admin
    )
    assert no_offer["createTrigger"]["errors"][0]["field"] == ["actions", "0", "offerId"]
    assert await rows(backend, "SELECT count(*) FROM triggers") == [(0,)]

    made = (await given.gql.data(CREATE, {"i": {"trigger": definition(offer_id)}}, given.admin))[
        "createTrigger"
    ]
    assert made["errors"] == []
    trigger = made["trigger"]
    assert trigger["conditions"] == [
        {"kind": "FIRST_IN_CATEGORY", "category": "TRAVEL", "threshold": None, "segmentId": None}
    ]
    assert trigger["actions"] == [
        {"kind": "ISSUE_COUPON", "offerId": offer_id, "template": None, "notification": "CAMPAIGN"}
    ]
    status = {"i": {"triggerId": trigger["id"]}}
    assert (await given.gql.data(PAUSE, status, given.admin))["pauseTrigger"]["trigger"]["status"] == "PAUSED"
    renamed = {"i": {"triggerId": trigger["id"], "trigger": definition(offer_id, name="Renamed")}}
    assert (await given.gql.data(UPDATE, renamed, given.admin))["updateTrigger"]["errors"] == []
    assert (await given.gql.data(LIST, None, given.admin))["triggers"] == [
        {"id": trigger["id"], "name": "Renamed", "status": "PAUSED"}
    ]

    airline = await given.merchant("Sky Air", category="TRAVEL")
    assert (await given.purchase(airline, member, 1_000, "p1"))["errors"] == []
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731
    assert (await run_reactions(uow, FixedClock(SystemClock().now()))).firings == 0  # paused
    assert (await given.gql.data(RESUME, status, given.admin))["resumeTrigger"]["trigger"][
        "status"
    ] == "ACTIVE"
    assert (await given.purchase(airline, member, 1_000, "p2"))["errors"] == []
    assert (await run_reactions(uow, FixedClock(SystemClock().now()))).firings == 0  # p2 is not the first
    audited = await rows(backend, "SELECT action FROM audit_log WHERE target_type = 'Trigger' ORDER BY id")
    assert [a for (a,) in audited] == ["createTrigger", "pauseTrigger", "updateTrigger", "resumeTrigger"]


async def test_notification_settings_time_zones_and_suppression_counts(
    backend: Backend, given: Scenario
) -> None:
    changed = await given.gql.data(
        PROGRAMME,
        {
            "i": {
                "expiryNoticeDays": 10,
                "marketingPerWeek": 2,
                "quietHoursStart": "21:30",
                "quietHoursEnd": "07:00",
            }
        },
        given.admin,
    )
    assert changed["updateProgramme"] == {
        "programme": {
            "expiryNoticeDays": 10,
            "marketingPerWeek": 2,
            "quietHoursStart": "21:30",
            "quietHoursEnd": "07:00",
            "signUpNudgeDays": 14,
        },
        "errors": [],
    }
    bad = await given.gql.data(PROGRAMME, {"i": {"quietHoursStart": "25:00"}}, given.admin)
    assert bad["updateProgramme"]["errors"] == [{"code": "VALIDATION", "field": ["quietHoursStart"]}]

    member = await given.member()
    token = given.tokens.member(member.raw)
    set_zone = await given.gql.data(PROFILE, {"i": {"timeZone": "Asia/Shanghai"}}, token)
    assert set_zone["updateMyProfile"]["member"]["profile"]["timeZone"] == "Asia/Shanghai"
    bad_zone = await given.gql.data(PROFILE, {"i": {"timeZone": "Asia/Atlantis"}}, token)
    assert bad_zone["updateMyProfile"]["errors"] == [{"code": "VALIDATION", "field": ["profile", "timeZone"]}]

    assert (await given.gql.data(SUPPRESSED, None, given.admin))["notificationSuppressions"] == []
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO notifications (member_id, kind, category, template, key, suppressed_reason,"
                " created_at) VALUES (:m, 'CAMPAIGN', 'MARKETING', 'nudge', 'k1', 'NO_CONSENT', :at)"
            ),
            {"m": member.raw, "at": SystemClock().now() - timedelta(hours=1)},
        )
    assert (await given.gql.data(SUPPRESSED, None, given.admin))["notificationSuppressions"] == [
        {"kind": "CAMPAIGN", "reason": "NO_CONSENT", "count": 1}
    ]
