"""Two-phase redemption at a POS with the member's one-time code, on both databases: exact balances,
lots that keep their expiry dates, a hold that resolves exactly once, and the hold-release job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.services.holds import run_hold_release
from persistence.queries.ledger_check import check_ledger
from persistence.tables import redemption_codes, redemptions
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario, raw_id
from tests.conftest import Backend
from tests.pos_steps import Pos, lots, scalar, set_column, set_lot_expiries

SOONER = datetime(2027, 1, 31, tzinfo=UTC)
LATER = datetime(2028, 6, 30, tzinfo=UTC)
LEDGER = "query { me { ledger(first: 3) { edges { node { kind account points description } } } } }"


@pytest.fixture
def pos(given: Scenario) -> Pos:
    return Pos(given)


async def member_with_two_lots(given: Scenario, backend: Backend) -> Ids:
    """100 points expiring SOONER, then 200 expiring LATER."""
    member = await given.member()
    assert (await given.adjust(member, 100, key="fund-1"))["errors"] == []
    assert (await given.adjust(member, 200, key="fund-2"))["errors"] == []
    await set_lot_expiries(backend, member, SOONER, LATER)
    return member


async def test_authorize_then_capture_part_spends_the_soonest_expiring_and_gives_back_the_rest(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant("Tea House")
    member = await member_with_two_lots(given, backend)
    purchase = await given.purchase(merchant, member, 1_000, key="p1")  # 10 points, a third lot

    code = await pos.code(member)
    authorized = await pos.authorize(merchant, code, "a1", points=250)
    held = await given.balance(member)
    hold_entry = await given.gql.data(LEDGER, token=given.tokens.member(member.raw))
    captured = await pos.capture(
        merchant, authorized["redemption"]["id"], "c1", 60, purchase["purchase"]["id"]
    )

    assert authorized["errors"] == []
    hold = authorized["redemption"]
    assert (hold["kind"], hold["status"], hold["points"], hold["merchant"]) == (
        "POS",
        "AUTHORIZED",
        250,
        {"name": "Tea House"},
    )
    until = datetime.fromisoformat(hold["holdExpiresAt"])
    assert timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    assert (held["available"], held["held"], held["lifetimeRedeemed"]) == (60, 250, 0)
    assert sorted(
        (e["node"]["kind"], e["node"]["account"], e["node"]["points"], e["node"]["description"])
        for e in hold_entry["me"]["ledger"]["edges"][:2]
    ) == [
        ("HOLD", "MEMBER_AVAILABLE", -250, f"Held at Tea House until {until:%H:%M} UTC"),
        ("HOLD", "MEMBER_HELD", 250, f"Held at Tea House until {until:%H:%M} UTC"),
    ]
    assert captured["errors"] == []
    assert captured["redemption"] | {"holdExpiresAt": None, "finalizedAt": None} == {
        "id": hold["id"],
        "kind": "POS",
        "status": "CAPTURED",
        "points": 250,
        "capturedPoints": 60,
        "holdExpiresAt": None,
        "pointsReturned": 0,
        "finalizedAt": None,
        "merchant": {"name": "Tea House"},
        "purchase": {"id": purchase["purchase"]["id"]},
        "reward": None,
    }
    assert captured["redemption"]["finalizedAt"] is not None
    after = await given.balance(member)
    assert (after["available"], after["held"], after["lifetimeRedeemed"]) == (250, 0, 60)
    # The 250 held drew the 100 SOONER and 150 of the LATER lot; the 60 spent are the soonest of
    # them, so 40 come back dated SOONER and 150 dated LATER.
    # (the purchase's own 10-point lot, untouched, is left out)
    assert [lot for lot in await lots(backend, member) if lot[0] != 10] == [
        (100, 0, "2027-01-31"),
        (200, 50, "2028-06-30"),
        (40, 40, "2027-01-31"),
        (150, 150, "2028-06-30"),
    ]
    ledger = await given.gql.data(LEDGER, token=given.tokens.member(member.raw))
    assert sorted(
        (e["node"]["kind"], e["node"]["account"], e["node"]["points"])
        for e in ledger["me"]["ledger"]["edges"]
    ) == [
        ("REDEEM", "MEMBER_HELD", -60),
        ("RELEASE", "MEMBER_AVAILABLE", 190),
        ("RELEASE", "MEMBER_HELD", -190),
    ]
    assert await check_ledger(backend.database.read_engine) == []


async def test_capture_without_points_spends_the_whole_hold(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(300)
    hold = await pos.hold(merchant, member, 120, key="a1")

    captured = await pos.capture(merchant, hold, "c1")

    assert captured["redemption"]["capturedPoints"] == 120
    after = await given.balance(member)
    assert (after["available"], after["held"], after["lifetimeRedeemed"]) == (180, 0, 120)
    assert await check_ledger(backend.database.read_engine) == []


async def test_void_gives_every_held_point_back_with_its_own_expiry(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant("Noodle Bar")
    member = await member_with_two_lots(given, backend)
    hold = await pos.hold(merchant, member, 250, key="a1")

    voided = await pos.void(merchant, hold, "v1")

    assert voided["errors"] == []
    assert (voided["redemption"]["status"], voided["redemption"]["capturedPoints"]) == ("VOIDED", None)
    after = await given.balance(member)
    assert (after["available"], after["held"], after["lifetimeRedeemed"]) == (300, 0, 0)
    assert await lots(backend, member) == [
        (100, 0, "2027-01-31"),
        (200, 50, "2028-06-30"),
        (100, 100, "2027-01-31"),
        (150, 150, "2028-06-30"),
    ]
    ledger = await given.gql.data(LEDGER, token=given.tokens.member(member.raw))
    assert (
        ledger["me"]["ledger"]["edges"][0]["node"]["description"]
        == "Released: the hold at Noodle Bar was voided"
    )
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_code_works_once(given: Scenario, pos: Pos, backend: Backend) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    code = await pos.code(member)

    first = await pos.authorize(merchant, code, "a1", points=100)
    again = await pos.authorize(merchant, code, "a2", points=100)
    other_merchant = await pos.authorize(await given.merchant("Other"), code, "a3", points=100)

    assert first["errors"] == []
    for refused in (again, other_merchant):
        assert refused["redemption"] is None
        assert refused["errors"] == [
            {"code": "VALIDATION", "field": ["code"], "message": "the code is invalid or has expired"}
        ]
    assert (await given.balance(member))["held"] == 100
    assert await check_ledger(backend.database.read_engine) == []


async def test_an_expired_or_made_up_code_is_refused_without_saying_whose_it_was(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    code = await pos.code(member)
    code_id = await scalar(backend, "SELECT max(id) FROM redemption_codes")
    await set_column(backend, redemption_codes, code_id, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    expired = await pos.authorize(merchant, code, "a1", points=100)
    made_up = await pos.authorize(merchant, "ABCDEFGHJK", "a2", points=100)
    malformed = await pos.authorize(merchant, "hello", "a3", points=100)

    for refused in (expired, made_up, malformed):
        assert refused["errors"] == [
            {"code": "VALIDATION", "field": ["code"], "message": "the code is invalid or has expired"}
        ]
    assert (await given.balance(member))["available"] == 500
    assert await scalar(backend, "SELECT count(*) FROM redemptions") == 0


async def test_a_code_lasts_five_minutes_and_older_codes_stay_valid(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    data = await given.gql.data(
        "mutation { createRedemptionCode { code expiresAt errors { code } } }",
        token=given.tokens.member(member.raw),
    )
    older = data["createRedemptionCode"]["code"]
    newer = await pos.code(member)

    assert len(older) == 10
    assert older != newer
    left = datetime.fromisoformat(data["createRedemptionCode"]["expiresAt"]) - datetime.now(UTC)
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)
    assert (await pos.authorize(merchant, older.lower(), "a1", points=10))["errors"] == []
    assert (await pos.authorize(merchant, newer, "a2", points=10))["errors"] == []
    # Only hashes are stored.
    assert (
        await scalar(
            backend, "SELECT count(*) FROM redemption_codes WHERE code_hash IN (:a, :b)", a=older, b=newer
        )
        == 0
    )


async def test_insufficient_points_changes_nothing_and_leaves_the_code_usable(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(99)
    code = await pos.code(member)

    refused = await pos.authorize(merchant, code, "a1", points=100)
    accepted = await pos.authorize(merchant, code, "a2", points=99)

    assert refused["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert accepted["errors"] == []
    balance = await given.balance(member)
    assert (balance["available"], balance["held"]) == (0, 99)
    assert await scalar(backend, "SELECT count(*) FROM redemptions") == 1
    assert await check_ledger(backend.database.read_engine) == []


async def test_authorize_needs_points_or_a_reward_but_not_both(given: Scenario, pos: Pos) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    code = await pos.code(member)
    reward = await given.reward(cost_points=10)

    neither = await pos.authorize(merchant, code, "a1")
    both = await pos.authorize(merchant, code, "a2", points=10, reward=reward)
    negative = await pos.authorize(merchant, code, "a3", points=-5)

    assert [r["errors"][0]["code"] for r in (neither, both, negative)] == ["VALIDATION"] * 3
    assert negative["errors"][0]["field"] == ["points"]
    assert (await pos.authorize(merchant, code, "a4", points=10))["errors"] == []  # still unused


async def test_only_the_merchant_that_authorized_sees_and_resolves_the_hold(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    mine = await given.merchant("Mine")
    other = await given.merchant("Other")
    member = await given.funded_member(500)
    ref = await given.member_ref(mine, member)  # the member is linked to "Mine" only
    hold = await pos.hold(mine, member, 100, key="a1")
    node = "query($id: ID!) { node(id: $id) { ... on Redemption { status member { memberRef } } } }"

    captured = await pos.capture(other, hold, "c1")
    voided = await pos.void(other, hold, "v1")
    seen_by_other = await given.gql.data(node, {"id": hold}, given.tokens.merchant(other.raw))
    seen_by_mine = await given.gql.data(node, {"id": hold}, given.tokens.merchant(mine.raw))
    seen_by_member = await given.gql.data(node, {"id": hold}, given.tokens.member(member.raw))

    for refused in (captured, voided):
        assert refused["errors"] == [
            {"code": "NOT_FOUND", "field": ["redemptionId"], "message": "no such redemption"}
        ]
    assert seen_by_other["node"] is None
    assert seen_by_mine["node"] == {"status": "AUTHORIZED", "member": {"memberRef": ref}}
    assert seen_by_member["node"]["status"] == "AUTHORIZED"
    assert (await given.balance(member))["held"] == 100
    assert await check_ledger(backend.database.read_engine) == []


async def test_capturing_more_than_held_or_part_of_a_reward_is_refused(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    hold = await pos.hold(merchant, member, 100, key="a1")
    reward = await given.reward("Mug", cost_points=50, stock=3)
    reward_hold = await pos.authorize(merchant, await pos.code(member), "a2", reward=reward)

    too_much = await pos.capture(merchant, hold, "c1", points=101)
    part_of_reward = await pos.capture(merchant, reward_hold["redemption"]["id"], "c2", points=20)
    someone_elses_purchase = await pos.capture(
        merchant,
        hold,
        "c3",
        purchase_id=(await given.purchase(await given.merchant("B"), member, 500, "p"))["purchase"]["id"],
    )

    assert too_much["errors"] == [
        {"code": "VALIDATION", "field": ["points"], "message": "at most the 100 points held can be captured"}
    ]
    assert part_of_reward["errors"][0] | {"message": ""} == {
        "code": "VALIDATION",
        "field": ["points"],
        "message": "",
    }
    assert someone_elses_purchase["errors"][0]["code"] == "NOT_FOUND"
    assert reward_hold["redemption"]["points"] == 50
    balance = await given.balance(member)
    assert (balance["available"], balance["held"]) == (355, 150)
    # Bad input is not stored under its key: corrected, the same key goes through.
    assert (await pos.capture(merchant, hold, "c1", points=100))["errors"] == []
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_hold_resolves_once(given: Scenario, pos: Pos, backend: Backend) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    captured_hold = await pos.hold(merchant, member, 100, key="a1")
    voided_hold = await pos.hold(merchant, member, 100, key="a2")

    assert (await pos.capture(merchant, captured_hold, "c1", points=40))["errors"] == []
    assert (await pos.void(merchant, voided_hold, "v1"))["errors"] == []
    second_capture = await pos.capture(merchant, captured_hold, "c2", points=10)
    void_after_capture = await pos.void(merchant, captured_hold, "v2")
    capture_after_void = await pos.capture(merchant, voided_hold, "c3")
    second_void = await pos.void(merchant, voided_hold, "v3")

    assert [
        r["errors"][0]["code"] for r in (second_capture, void_after_capture, capture_after_void, second_void)
    ] == ["ALREADY_FINALIZED"] * 4
    assert second_capture["errors"][0]["message"] == "this redemption is already captured"
    balance = await given.balance(member)
    assert (balance["available"], balance["held"], balance["lifetimeRedeemed"]) == (460, 0, 40)
    assert await check_ledger(backend.database.read_engine) == []


async def test_retries_with_the_same_key_replay_and_move_nothing(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    code = await pos.code(member)

    first = await pos.authorize(merchant, code, "a1", points=100)
    retried = await pos.authorize(merchant, code, "a1", points=100)
    other_input = await pos.authorize(merchant, code, "a1", points=101)
    hold = first["redemption"]["id"]
    captured = await pos.capture(merchant, hold, "c1", points=30)
    recaptured = await pos.capture(merchant, hold, "c1", points=30)
    voided_late = await pos.void(merchant, hold, "c1")

    assert retried["redemption"]["id"] == hold
    assert other_input["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert captured["errors"] == []
    assert recaptured["errors"] == []
    assert recaptured["redemption"]["capturedPoints"] == 30
    assert voided_late["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    balance = await given.balance(member)
    assert (balance["available"], balance["held"], balance["lifetimeRedeemed"]) == (470, 0, 30)
    assert await scalar(backend, "SELECT count(*) FROM redemptions") == 1
    assert await scalar(backend, "SELECT count(*) FROM journal_entries WHERE kind = 'REDEEM'") == 1
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_lapsed_hold_cannot_be_captured_but_can_be_voided(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    hold = await pos.hold(merchant, member, 100, key="a1")
    await set_column(
        backend, redemptions, raw_id(hold), hold_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )

    captured = await pos.capture(merchant, hold, "c1")
    unchanged = await given.balance(member)
    voided = await pos.void(merchant, hold, "v1")

    assert captured["errors"][0]["code"] == "ALREADY_FINALIZED"
    assert captured["errors"][0]["message"].startswith("the hold expired")
    assert (unchanged["available"], unchanged["held"]) == (400, 100)
    assert voided["redemption"]["status"] == "VOIDED"
    balance = await given.balance(member)
    assert (balance["available"], balance["held"], balance["lifetimeRedeemed"]) == (500, 0, 0)
    assert await check_ledger(backend.database.read_engine) == []


async def test_the_hold_release_job_releases_lapsed_holds_once(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant("Noodle Bar")
    alice = await given.funded_member(500)
    bob = await given.funded_member(300)
    reward = await given.reward("Mug", cost_points=50, stock=2)
    await pos.hold(merchant, alice, 100, key="a1")
    reward_hold = await pos.authorize(merchant, await pos.code(alice), "a2", reward=reward)
    await pos.hold(merchant, bob, 300, key="b1")
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731

    early = await run_hold_release(uow, FixedClock(datetime.now(UTC) + timedelta(minutes=29)))
    released = await run_hold_release(uow, FixedClock(datetime.now(UTC) + timedelta(minutes=31)))
    again = await run_hold_release(uow, FixedClock(datetime.now(UTC) + timedelta(minutes=31)))

    assert reward_hold["errors"] == []
    assert (early.holds, early.points) == (0, 0)
    assert (released.holds, released.points) == (3, 450)
    assert (again.holds, again.points) == (0, 0)
    for member, funded in ((alice, 500), (bob, 300)):
        balance = await given.balance(member)
        assert (balance["available"], balance["held"], balance["lifetimeRedeemed"]) == (funded, 0, 0)
    assert await pos.stock(reward) == 2
    assert await scalar(backend, "SELECT count(*) FROM redemptions WHERE status = 'EXPIRED'") == 3
    ledger = await given.gql.data(LEDGER, token=given.tokens.member(bob.raw))
    assert (
        ledger["me"]["ledger"]["edges"][0]["node"]["description"]
        == "Released: the hold at Noodle Bar expired"
    )
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_reward_held_at_the_pos_takes_a_unit_of_stock_and_a_void_gives_it_back(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    reward = await given.reward("Mug", cost_points=80, stock=1)

    held = await pos.authorize(merchant, await pos.code(member), "a1", reward=reward)
    sold_out = await pos.authorize(merchant, await pos.code(member), "a2", reward=reward)
    stock_while_held = await pos.stock(reward)
    await pos.void(merchant, held["redemption"]["id"], "v1")

    assert held["redemption"]["reward"] == {"name": "Mug"}
    assert held["redemption"]["points"] == 80
    assert sold_out["errors"][0]["code"] == "REWARD_OUT_OF_STOCK"
    assert stock_while_held == 0
    assert await pos.stock(reward) == 1
    assert (await given.balance(member))["available"] == 500
    assert await check_ledger(backend.database.read_engine) == []


async def test_hold_minutes_come_from_the_programme(given: Scenario, pos: Pos, backend: Backend) -> None:
    await set_programme(backend, "hold_minutes = 5")
    try:
        merchant = await given.merchant()
        member = await given.funded_member(100)
        held = await pos.authorize(merchant, await pos.code(member), "a1", points=10)
    finally:
        await set_programme(backend, "hold_minutes = 30")

    left = datetime.fromisoformat(held["redemption"]["holdExpiresAt"]) - datetime.now(UTC)
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)


async def set_programme(backend: Backend, assignment: str) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.exec_driver_sql(
            f"UPDATE programme SET {assignment}, catalogue_version = catalogue_version + 1"
        )
