"""The admins' webhook API: subscriptions made, changed, disabled and given a new secret (each
secret shown once), deliveries listed with their status and redelivered; bad input is a typed
error that changes nothing; no other role reaches any of it."""

from __future__ import annotations

from typing import Any

from domain.webhooks import new_secret
from persistence.delivery import SqlDeliveryStore
from scripts.worker import Worker, WorkerSettings
from tests.builders import Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import partner
from tests.integration.test_webhook_delivery import drain
from tests.webhook_receiver import Receiver

CREATE = """mutation($i: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $i) {
    subscription { id url eventTypes ownerKind ownerId status transport }
    secret errors { code field message }
  }
}"""
UPDATE = """mutation($i: UpdateWebhookSubscriptionInput!) {
  updateWebhookSubscription(input: $i) { subscription { url eventTypes status } errors { code field } }
}"""
DISABLE = """mutation($i: DisableWebhookSubscriptionInput!) {
  disableWebhookSubscription(input: $i) { subscription { status } errors { code field } }
}"""
ROTATE = """mutation($i: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $i) { secret errors { code field } }
}"""
REDELIVER = """mutation($i: RedeliverWebhookEventInput!) {
  redeliverWebhookEvent(input: $i) { delivery { eventId status attempts } errors { code field } }
}"""
DELIVERIES = """query($f: WebhookDeliveryFilter) {
  webhookDeliveries(first: 10, filter: $f) {
    edges { node { eventId eventType status attempts lastError lastStatusCode subscriptionId } }
  }
}"""
SUBSCRIPTIONS = "query { webhookSubscriptions { id url status eventTypes } }"


async def create(given: Scenario, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(CREATE, {"i": fields}, given.admin)
    return data["createWebhookSubscription"]  # type: ignore[no-any-return]


async def test_an_admin_subscribes_a_partner_and_manages_the_subscription(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    made = await create(
        given,
        url="https://bank.example/hooks",
        eventTypes=["points.adjusted", "purchase.posted", "points.adjusted"],
        ownerKind="PARTNER",
        ownerId=bank.gid,
    )
    assert made["errors"] == []
    sub = made["subscription"]
    assert made["secret"].startswith("whsec_")
    assert (sub["eventTypes"], sub["ownerKind"], sub["ownerId"], sub["status"], sub["transport"]) == (
        ["points.adjusted", "purchase.posted"],
        "PARTNER",
        bank.gid,
        "ACTIVE",
        "WEBHOOK",
    )
    listed = await given.gql.data(SUBSCRIPTIONS, token=given.admin)
    assert listed["webhookSubscriptions"] == [
        {
            "id": sub["id"],
            "url": "https://bank.example/hooks",
            "status": "ACTIVE",
            "eventTypes": sub["eventTypes"],
        }
    ]
    changed = await given.gql.data(
        UPDATE, {"i": {"subscriptionId": sub["id"], "eventTypes": []}}, given.admin
    )
    assert changed["updateWebhookSubscription"]["subscription"]["eventTypes"] == []
    rotated = await given.gql.data(ROTATE, {"i": {"subscriptionId": sub["id"]}}, given.admin)
    assert rotated["rotateWebhookSecret"]["secret"] not in (None, made["secret"])
    disabled = await given.gql.data(DISABLE, {"i": {"subscriptionId": sub["id"]}}, given.admin)
    assert disabled["disableWebhookSubscription"]["subscription"] == {"status": "DISABLED"}


async def test_bad_input_is_a_typed_error_and_makes_nothing(given: Scenario) -> None:
    bank = await partner(given)
    cases = [
        ({"url": "ftp://x.example", "eventTypes": [], "ownerKind": "APP"}, "url"),
        ({"url": "https://u:p@x.example", "eventTypes": [], "ownerKind": "APP"}, "url"),
        ({"url": "https://x.example", "eventTypes": ["points.stolen"], "ownerKind": "APP"}, "eventTypes"),
        ({"url": "https://x.example", "eventTypes": [], "ownerKind": "PARTNER"}, "ownerId"),
        ({"url": "https://x.example", "eventTypes": [], "ownerKind": "APP", "ownerId": bank.gid}, "ownerId"),
    ]
    for fields, field in cases:
        made = await create(given, **fields)
        assert made["subscription"] is None
        assert made["secret"] is None
        assert [(e["code"], e["field"]) for e in made["errors"]] == [("VALIDATION", [field])], fields
    assert (await given.gql.data(SUBSCRIPTIONS, token=given.admin))["webhookSubscriptions"] == []
    rotated = await given.gql.data(
        ROTATE, {"i": {"subscriptionId": "V2ViaG9va1N1YnNjcmlwdGlvbjo5OQ=="}}, given.admin
    )
    assert rotated["rotateWebhookSecret"]["errors"][0]["code"] in ("NOT_FOUND", "VALIDATION")


async def test_only_admins_reach_webhooks(given: Scenario) -> None:
    member = await given.member()
    merchant = await given.merchant()
    for token in (given.tokens.member(member.raw), given.tokens.merchant(merchant.raw), None):
        body = await given.gql.post(SUBSCRIPTIONS, token=token)
        assert body["data"] is None
        assert {e["extensions"]["code"] for e in body["errors"]} <= {"FORBIDDEN", "UNAUTHENTICATED"}
        body = await given.gql.post(
            CREATE, {"i": {"url": "https://x.example", "eventTypes": [], "ownerKind": "APP"}}, token
        )
        assert {e["extensions"]["code"] for e in body["errors"]} <= {"FORBIDDEN", "UNAUTHENTICATED"}


async def test_a_dead_delivery_is_listed_and_an_admin_redelivers_it(
    backend: Backend, given: Scenario
) -> None:
    receiver = Receiver(new_secret()).start()
    try:
        receiver.answer = lambda _: 500
        made = await create(given, url=receiver.url, eventTypes=["points.adjusted"], ownerKind="APP")
        sub = made["subscription"]["id"]
        receiver.secret = made["secret"]
        member = await given.member()
        assert (await given.adjust(member, 7, "a1"))["errors"] == []
        worker = Worker(
            SqlDeliveryStore(backend.database.write_engine), WorkerSettings(max_attempts=2, backoff_seconds=0)
        )
        await worker.start()
        try:
            await drain(worker)
            dead = await given.gql.data(DELIVERIES, {"f": {"status": "DEAD"}}, given.admin)
            [node] = [e["node"] for e in dead["webhookDeliveries"]["edges"]]
            assert (node["eventType"], node["attempts"], node["lastError"], node["lastStatusCode"]) == (
                "points.adjusted",
                2,
                "HTTP 500",
                500,
            )
            assert node["subscriptionId"] == sub
            receiver.answer = lambda _: 204
            again = await given.gql.data(
                REDELIVER, {"i": {"eventId": node["eventId"], "subscriptionId": sub}}, given.admin
            )
            assert again["redeliverWebhookEvent"] == {
                "delivery": {"eventId": node["eventId"], "status": "PENDING", "attempts": 0},
                "errors": [],
            }
            await drain(worker)
        finally:
            await worker.close()
        done = await given.gql.data(DELIVERIES, {"f": {"subscriptionId": sub}}, given.admin)
        assert [e["node"]["status"] for e in done["webhookDeliveries"]["edges"]] == ["DELIVERED"]
        assert receiver.ids() == [node["eventId"]]
        unknown = await given.gql.data(
            REDELIVER, {"i": {"eventId": "nope", "subscriptionId": sub}}, given.admin
        )
        assert [e["code"] for e in unknown["redeliverWebhookEvent"]["errors"]] == ["NOT_FOUND"]
    finally:
        receiver.stop()
