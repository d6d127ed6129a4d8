"""Rate limits per principal and limits on guessing codes, through the API, on both databases and
with both stores: each process's memory and a real Redis (REDIS_URL, default redis://127.0.0.1:6379/0;
skipped, with the reason, when none answers). Each test counts under its own Redis key prefix.

The setup goes through the suite's unlimited app; the acts go through an app with the test's limits
on the same database, as a second process would."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from limits.aio.storage import Storage
from limits.storage import storage_from_string
from sqlalchemy import select

from api.rate_limits import storage_uri
from persistence.tables import security_events
from tests.builders import Ids, Scenario
from tests.conftest import Backend, make_client, settings_for
from tests.integration.test_offers_api import GENERATE, OPEN_RED_PACKET, create_offer
from tests.pos_steps import CREATE_CODE, Pos

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _probe_redis() -> str | None:
    async def probe() -> None:
        storage = cast(Storage, storage_from_string(storage_uri(REDIS_URL), connect_timeout=2))
        if not await storage.check():
            raise ConnectionError("PING got no answer")

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc!r}"
    return None


REDIS_UNREACHABLE = _probe_redis()


@dataclass(frozen=True)
class Store:
    redis_url: str | None
    prefix: str

    def cooled(self) -> Store:
        """The same store once every cool-down is over: its counters are gone. A fresh memory store
        per app already is; on Redis, a second prefix the fixture also drops. (The expiry itself is
        timed in the unit tests, where no database makes a one-second window unreliable.)"""
        return Store(self.redis_url, f"{self.prefix}-cooled" if self.redis_url else "")


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param(
            "redis",
            marks=pytest.mark.skipif(REDIS_UNREACHABLE is not None, reason=REDIS_UNREACHABLE or ""),
        ),
    ]
)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield Store(None, "")
        return
    chosen = Store(REDIS_URL, f"loyalty-test-{uuid.uuid4().hex}")
    yield chosen
    # Drop this test's counters; the prefixes are unique, so no other run is touched.
    for prefix in (chosen.prefix, chosen.cooled().prefix):
        storage = storage_from_string(storage_uri(REDIS_URL), key_prefix=prefix)
        await cast(Storage, storage).reset()


@asynccontextmanager
async def limited(backend: Backend, store: Store, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app with these limits (all others unlimited), counting in the test's store."""
    settings = settings_for(
        backend.url, redis_url=store.redis_url, rate_limit_key_prefix=store.prefix or "loyalty", **limits
    )
    async with make_client(settings, backend.database) as http:
        yield http


async def post(http: httpx.AsyncClient, query: str, token: str, variables: Any = None) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )


def refusal(response: httpx.Response) -> int:
    """Asserts a well-formed 429; its Retry-After in seconds."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert str(retry_after) in error["message"]
    assert retry_after >= 1
    return retry_after


TYPENAME = "{ __typename }"
# A day's window: the sliding window counter weighs the previous (epoch-aligned) window, so a burst
# that stays inside one window is counted exactly.
FIVE_A_DAY = "5/day"


async def test_a_burst_past_a_members_limit_gets_429_and_others_are_unaffected(
    backend: Backend, store: Store, given: Scenario
) -> None:
    alice, bob = given.tokens.member(1), given.tokens.member(2)
    merchant = given.tokens.merchant(1)
    async with limited(backend, store, rate_limits=_only(member=FIVE_A_DAY)) as http:
        allowed = [await post(http, TYPENAME, alice) for _ in range(5)]
        refused = await post(http, TYPENAME, alice)
        again = await post(http, TYPENAME, alice)
        bobs = await post(http, TYPENAME, bob)
        merchants = await post(http, TYPENAME, merchant)

    assert [r.status_code for r in allowed] == [200] * 5
    refusal(refused)
    refusal(again)
    assert bobs.status_code == merchants.status_code == 200
    assert bobs.json() == {"data": {"__typename": "Query"}}


async def test_anonymous_callers_are_limited_by_address(backend: Backend, store: Store) -> None:
    async with limited(backend, store, rate_limits=_only(anonymous="2/day")) as http:
        answers = [await http.post("/graphql", json={"query": TYPENAME}) for _ in range(3)]
        # A token that is not accepted counts against the address too.
        forged = await post(http, TYPENAME, "not-a-token")

    assert [r.status_code for r in answers[:2]] == [200, 200]
    refusal(answers[2])
    refusal(forged)


@pytest.mark.skipif(REDIS_UNREACHABLE is not None, reason=REDIS_UNREACHABLE or "")
async def test_two_app_instances_sharing_redis_share_the_count(backend: Backend, given: Scenario) -> None:
    shared = Store(REDIS_URL, f"loyalty-test-{uuid.uuid4().hex}")
    alice = given.tokens.member(1)
    try:
        async with (
            limited(backend, shared, rate_limits=_only(member=FIVE_A_DAY)) as first,
            limited(backend, shared, rate_limits=_only(member=FIVE_A_DAY)) as second,
        ):
            assert first is not second
            statuses = [(await post(http, TYPENAME, alice)).status_code for http in [first, second] * 3]
            refused = await post(second, TYPENAME, alice)
    finally:
        await cast(Storage, storage_from_string(storage_uri(REDIS_URL), key_prefix=shared.prefix)).reset()

    # Three requests to each instance: the sixth is refused wherever it lands.
    assert statuses == [200] * 5 + [429]
    refusal(refused)


async def test_two_app_instances_in_memory_count_apart(backend: Backend, given: Scenario) -> None:
    """The embedded default: each process counts its own (what REDIS_URL is for)."""
    alice = given.tokens.member(1)
    memory = Store(None, "")
    async with (
        limited(backend, memory, rate_limits=_only(member=FIVE_A_DAY)) as first,
        limited(backend, memory, rate_limits=_only(member=FIVE_A_DAY)) as second,
    ):
        statuses = [(await post(http, TYPENAME, alice)).status_code for http in [first, second] * 3]

    assert statuses == [200] * 6


async def test_creating_codes_has_its_own_tighter_limit(
    backend: Backend, store: Store, given: Scenario
) -> None:
    member = await given.member()
    token = given.tokens.member(member.raw)
    async with limited(backend, store, code_creation_limit="2/day") as http:
        made = [await post(http, CREATE_CODE, token) for _ in range(2)]
        refused = await post(http, CREATE_CODE, token)
        other_work = await post(http, "{ me { balance { available } } }", token)

    assert [r.json()["data"]["createRedemptionCode"]["errors"] for r in made] == [[], []]
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    body = refused.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert 1 <= retry_after <= 86_400
    assert other_work.status_code == 200
    assert other_work.json()["data"]["me"]["balance"]["available"] == 0


# Guessing: 3 wrong codes within a minute lock the caller out of that kind of code for a minute.
GUESSING = {"guess_max_failures": 3, "guess_window_seconds": 60, "guess_cooldown_seconds": 60}
WRONG_POS_CODE = "2345678923"
AUTHORIZE = """mutation($input: AuthorizeRedemptionInput!) {
  authorizeRedemption(input: $input) { redemption { points } errors { code field message retryAfter } }
}"""  # well formed, so it is looked up, and never issued by the tests


async def events(backend: Backend) -> list[dict[str, Any]]:
    async with backend.database.read_engine.connect() as conn:
        rows = (await conn.execute(select(security_events).order_by(security_events.c.id))).all()
    return [dict(row._mapping) for row in rows]


async def test_wrong_pos_codes_lock_the_merchant_out_even_for_a_right_code_until_the_cool_down(
    backend: Backend, store: Store, given: Scenario
) -> None:
    pos = Pos(given)
    shop, other_shop = await given.merchant("Tea House"), await given.merchant("Noodle Bar")
    member = await given.funded_member(1_000)
    code = await pos.code(member)

    async def authorize(http: httpx.AsyncClient, merchant: Ids, presented: str, key: str) -> dict[str, Any]:
        variables = {"input": {"code": presented, "points": 300, "idempotencyKey": key}}
        response = await post(http, AUTHORIZE, given.tokens.merchant(merchant.raw), variables)
        return cast(dict[str, Any], response.json()["data"]["authorizeRedemption"])

    async with limited(backend, store, **GUESSING) as http:
        wrong = [await authorize(http, shop, WRONG_POS_CODE, f"w{i}") for i in range(3)]
        locked = await authorize(http, shop, code, "right")
        balance_while_locked = await given.balance(member)
        events_while_locked = await events(backend)
        elsewhere = await authorize(http, other_shop, WRONG_POS_CODE, "other")
    async with limited(backend, store.cooled(), **GUESSING) as http:
        after = await authorize(http, shop, code, "right")

    assert [w["errors"][0]["code"] for w in wrong] == ["VALIDATION"] * 3
    [refused] = locked["errors"]
    assert (refused["code"], refused["field"], locked["redemption"]) == ("TOO_MANY_ATTEMPTS", ["code"], None)
    assert 55 <= refused["retryAfter"] <= 60
    # Refused before anything was looked up: the code is still unused, nothing is held.
    assert balance_while_locked == {**balance_while_locked, "available": 1_000, "held": 0}
    [event] = events_while_locked
    assert event["kind"] == "GUESSING_LOCKOUT"
    assert event["secret"] == "REDEMPTION_CODE"
    assert event["principal"] == f"merchant:pos-{shop.raw}"
    assert event["client_address"] == "127.0.0.1"
    assert (event["failures"], event["cooldown_seconds"]) == (3, 60)
    # Another merchant's count is its own: its wrong code is just wrong.
    assert elsewhere["errors"][0]["code"] == "VALIDATION"
    # After the cool-down the right code works, once.
    assert after["errors"] == []
    assert after["redemption"]["points"] == 300
    assert await given.balance(member) == {**await given.balance(member), "available": 700, "held": 300}
    assert len(await events(backend)) == 1


async def test_concurrent_wrong_codes_record_one_lockout(
    backend: Backend, store: Store, given: Scenario
) -> None:
    shop = await given.merchant()
    token = given.tokens.merchant(shop.raw)

    async def guess(http: httpx.AsyncClient, i: int) -> str:
        variables = {"input": {"code": WRONG_POS_CODE, "points": 1, "idempotencyKey": f"g{i}"}}
        response = await post(http, AUTHORIZE, token, variables)
        return str(response.json()["data"]["authorizeRedemption"]["errors"][0]["code"])

    async with limited(backend, store, **GUESSING) as http:
        await asyncio.gather(*(guess(http, i) for i in range(20)))
        after = await guess(http, 99)

    assert after == "TOO_MANY_ATTEMPTS"
    assert [e["secret"] for e in await events(backend)] == ["REDEMPTION_CODE"]


async def coupon(given: Scenario, merchant: Ids) -> str:
    created = await create_offer(
        given,
        name="Coupon: 20 yuan off",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 2_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
    )
    generated = await given.gql.data(
        GENERATE, {"input": {"offerId": created["offer"]["id"], "count": 1}}, given.admin
    )
    return str(generated["generateCoupons"]["coupons"][0]["code"])


PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase { pointsEarned paid { amountMinor } } errors { code field message retryAfter }
  }
}"""


async def test_wrong_coupon_codes_lock_the_merchant_out_of_coupons_not_of_purchases(
    backend: Backend, store: Store, given: Scenario
) -> None:
    shop = await given.merchant()
    member = await given.member()
    code = await coupon(given, shop)
    token = given.tokens.merchant(shop.raw)
    ref = await given.member_ref(shop, member)

    async def buy(http: httpx.AsyncClient, key: str, coupon_code: str | None = None) -> dict[str, Any]:
        variables = {
            "input": {
                "memberRef": ref,
                "amount": {"amountMinor": 10_000, "currency": "CNY"},
                "idempotencyKey": key,
                "couponCode": coupon_code,
            }
        }
        return cast(
            dict[str, Any], (await post(http, PURCHASE, token, variables)).json()["data"]["postPurchase"]
        )

    async with limited(backend, store, **GUESSING) as http:
        wrong = [await buy(http, f"w{i}", f"NOPE{i}") for i in range(3)]
        locked = await buy(http, "with-coupon", code)
        plain = await buy(http, "plain")
        balance_while_locked = await given.balance(member)
    async with limited(backend, store.cooled(), **GUESSING) as http:
        after = await buy(http, "with-coupon", code)  # the same key: nothing was stored under it

    assert [(w["errors"][0]["code"], w["errors"][0]["field"]) for w in wrong] == [
        ("NOT_FOUND", ["couponCode"])
    ] * 3
    assert locked["purchase"] is None
    assert [(e["code"], e["field"]) for e in locked["errors"]] == [("TOO_MANY_ATTEMPTS", ["couponCode"])]
    # A purchase without a coupon is not a guess: it earns as usual.
    assert plain == {"purchase": {"pointsEarned": 100, "paid": {"amountMinor": 10_000}}, "errors": []}
    assert balance_while_locked["available"] == 100
    assert after == {"purchase": {"pointsEarned": 80, "paid": {"amountMinor": 8_000}}, "errors": []}
    assert (await given.balance(member))["available"] == 180
    [event] = await events(backend)
    assert (event["secret"], event["principal"]) == ("COUPON_CODE", f"merchant:pos-{shop.raw}")


async def red_packet(given: Scenario) -> None:
    created = await create_offer(
        given,
        name="Red packet: 88 points",
        mechanic="BONUS_POINTS",
        points=88,
        trigger="RED_PACKET",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    await given.gql.data(
        GENERATE,
        {"input": {"offerId": created["offer"]["id"], "sharedCode": "HONGBAO", "maxUses": 10}},
        given.admin,
    )


async def test_wrong_red_packet_codes_lock_the_member_out_until_the_cool_down(
    backend: Backend, store: Store, given: Scenario
) -> None:
    await red_packet(given)
    guesser, neighbour = await given.member(), await given.member()

    async def open_(http: httpx.AsyncClient, member: Ids, code: str, key: str) -> dict[str, Any]:
        variables = {"input": {"code": code, "idempotencyKey": key}}
        response = await post(http, OPEN_RED_PACKET, given.tokens.member(member.raw), variables)
        return cast(dict[str, Any], response.json()["data"]["openRedPacket"])

    async with limited(backend, store, **GUESSING) as http:
        wrong = [await open_(http, guesser, f"HONGBAO{i}", f"w{i}") for i in range(3)]
        locked = await open_(http, guesser, "HONGBAO", "right")
        neighbours = await open_(http, neighbour, "HONGBAO", "right")
        balance_while_locked = await given.balance(guesser)
    async with limited(backend, store.cooled(), **GUESSING) as http:
        after = await open_(http, guesser, "HONGBAO", "right")

    assert [w["errors"] for w in wrong] == [[{"code": "NOT_FOUND", "field": ["code"]}]] * 3
    assert locked == {"points": None, "errors": [{"code": "TOO_MANY_ATTEMPTS", "field": ["code"]}]}
    assert neighbours == {"points": 88, "errors": []}
    assert balance_while_locked["available"] == 0
    assert after == {"points": 88, "errors": []}
    assert (await given.balance(guesser))["available"] == 88
    [event] = await events(backend)
    assert (event["secret"], event["principal"]) == ("RED_PACKET_CODE", f"member:member-{guesser.raw}")


SECURITY_EVENTS = """query($after: String) {
  securityEvents(first: 1, after: $after) {
    edges { node { kind secret principal clientAddress failures cooldownSeconds occurredAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_admins_read_security_events_newest_first(
    backend: Backend, store: Store, given: Scenario
) -> None:
    shop = await given.merchant()
    member = await given.member()
    code = await coupon(given, shop)
    token = given.tokens.member(member.raw)
    claim = "mutation($code: String!) { claimCoupon(input: {code: $code}) { errors { code } } }"
    async with limited(backend, store, **GUESSING) as http:
        for i in range(3):
            await post(http, claim, token, {"code": f"NOPE{i}"})
        locked = await post(http, claim, token, {"code": code})
        for i in range(3):
            await post(http, AUTHORIZE, given.tokens.merchant(shop.raw), _authorize(f"k{i}"))

    first = await given.gql.data(SECURITY_EVENTS, {}, given.admin)
    second = await given.gql.data(
        SECURITY_EVENTS, {"after": first["securityEvents"]["pageInfo"]["endCursor"]}, given.admin
    )
    as_merchant = await given.gql.post(SECURITY_EVENTS, {}, given.tokens.merchant(shop.raw))

    assert locked.json()["data"]["claimCoupon"]["errors"] == [{"code": "TOO_MANY_ATTEMPTS"}]
    newest = first["securityEvents"]["edges"][0]["node"]
    older = second["securityEvents"]["edges"][0]["node"]
    assert first["securityEvents"]["pageInfo"]["hasNextPage"] is True
    assert second["securityEvents"]["pageInfo"]["hasNextPage"] is False
    assert {k: newest[k] for k in ("kind", "secret", "principal", "clientAddress", "failures")} == {
        "kind": "GUESSING_LOCKOUT",
        "secret": "REDEMPTION_CODE",
        "principal": f"merchant:pos-{shop.raw}",
        "clientAddress": "127.0.0.1",
        "failures": 3,
    }
    assert (older["secret"], older["principal"]) == ("COUPON_CODE", f"member:member-{member.raw}")
    assert as_merchant["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _authorize(key: str) -> dict[str, Any]:
    return {"input": {"code": WRONG_POS_CODE, "points": 1, "idempotencyKey": key}}


def _only(**limits: str) -> dict[str, str]:
    """The suite's unlimited rates with these roles' limits in place."""
    return {**settings_for("sqlite://").rate_limits, **limits}
