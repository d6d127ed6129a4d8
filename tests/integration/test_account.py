"""A member's own account through the API, on both databases: it changes its profile, contact and
marketing consent (validated, audited with contact masked), and closes its account; the points
follow the programme's closure policy (FORFEIT at once, or KEEP through a grace an admin may reopen
in, then the forfeiture job), and the ledger stays exact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.clock import FixedClock
from domain.services.closure import run_closure_forfeiture
from persistence.queries.ledger_check import check_ledger
from persistence.tables import audit_log
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.pos_steps import Pos, execute, scalar
from tests.voucher_steps import restore_wallet_settings, voucher_for

UPDATE = """mutation($input: UpdateMyProfileInput!) {
  updateMyProfile(input: $input) {
    member { profile { birthYear region incomeBand tags } contact { phone email }
             marketingConsent marketingConsentAt }
    errors { code field message }
  }
}"""
CLOSE = """mutation($input: CloseMyAccountInput!) {
  closeMyAccount(input: $input) {
    member { status closedAt pointsForfeitAt } pointsForfeited pointsForfeitAt errors { code field message }
  }
}"""
REOPEN = """mutation($input: ReopenMemberInput!) {
  reopenMember(input: $input) { member { status closedAt pointsForfeitAt } errors { code field message } }
}"""
ME = """query { me {
  status balance { available lifetimeEarned } ledger(first: 1) { edges { node { kind points description } } }
} }"""


@pytest.fixture(autouse=True)
async def wallet_settings(backend: Backend) -> AsyncIterator[None]:
    yield
    await restore_wallet_settings(backend)


async def update(given: Scenario, member: Ids, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(UPDATE, {"input": fields}, given.tokens.member(member.raw))
    return dict(data["updateMyProfile"])


async def close(given: Scenario, member: Ids, key: str) -> dict[str, Any]:
    data = await given.gql.data(CLOSE, {"input": {"idempotencyKey": key}}, given.tokens.member(member.raw))
    return dict(data["closeMyAccount"])


async def keep_points_for(backend: Backend, days: int) -> None:
    await execute(
        backend,
        "UPDATE programme SET closure_policy = 'KEEP', closure_grace_days = :days, "
        "catalogue_version = catalogue_version + 1",
        days=days,
    )


async def test_a_member_changes_only_the_fields_it_gives_and_the_change_is_audited_masked(
    given: Scenario, backend: Backend
) -> None:
    member = await given.member(phone="13812345678", profile={"region": "Shanghai", "tags": ["tea"]})

    changed = await update(given, member, birthYear=1990, email="Li@Example.cn", marketingConsent=True)
    cleared = await update(given, member, region=None)
    unchanged = await update(given, member, marketingConsent=True)

    assert changed["errors"] == []
    assert changed["member"]["profile"] == {
        "birthYear": 1990,
        "region": "Shanghai",
        "incomeBand": None,
        "tags": ["tea"],
    }
    assert changed["member"]["contact"] == {"phone": "13812345678", "email": "Li@Example.cn"}
    assert changed["member"]["marketingConsent"] is True
    given_at = changed["member"]["marketingConsentAt"]
    assert given_at is not None
    assert cleared["member"]["profile"]["region"] is None
    assert unchanged["member"]["marketingConsentAt"] == given_at  # the consent did not change
    async with backend.database.read_engine.connect() as conn:
        audited = (await conn.execute(select(audit_log).where(audit_log.c.action == "updateMyProfile"))).all()
    assert len(audited) == 2  # the request that changed nothing wrote nothing
    assert audited[0].after["contact"] == {"phone": "138****5678", "email": "L***@Example.cn"}
    assert audited[0].after["marketing_consent"] is True
    stored = await scalar(backend, "SELECT email_encrypted FROM members WHERE id = :id", id=member.raw)
    assert "Example" not in stored


async def test_bad_profile_input_is_refused_and_changes_nothing(given: Scenario) -> None:
    member = await given.member()

    bad_year = await update(given, member, birthYear=1800, marketingConsent=True)
    bad_email = await update(given, member, email="not-an-address")
    bad_phone = await update(given, member, phone="call me")

    assert (bad_year["errors"][0]["code"], bad_year["errors"][0]["field"]) == (
        "VALIDATION",
        ["profile", "birthYear"],
    )
    assert bad_email["errors"][0]["field"] == ["contact", "email"]
    assert bad_phone["errors"][0]["field"] == ["contact", "phone"]
    me = await given.gql.data(
        "query { me { marketingConsent contact { email } } }", token=given.tokens.member(member.raw)
    )
    assert me["me"] == {"marketingConsent": False, "contact": {"email": None}}


async def test_closing_under_forfeit_moves_the_available_points_to_breakage_at_once(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(750)

    closed = await close(given, member, "c1")
    replay = await close(given, member, "c1")
    again = await close(given, member, "c2")
    redeemed = await given.redeem(member, await given.reward("Mug", cost_points=1), key="r1")

    assert closed["errors"] == []
    assert (closed["pointsForfeited"], closed["pointsForfeitAt"]) == (750, None)
    assert closed["member"]["status"] == "CLOSED"
    assert closed["member"]["closedAt"] is not None
    assert replay["pointsForfeited"] == 750
    assert again["errors"][0]["code"] == "MEMBER_LOCKED"
    assert redeemed["errors"][0]["code"] == "MEMBER_LOCKED"
    me = await given.gql.data(ME, token=given.tokens.member(member.raw))
    assert me["me"]["status"] == "CLOSED"
    assert me["me"]["balance"] == {"available": 0, "lifetimeEarned": 750}
    assert me["me"]["ledger"]["edges"][0]["node"] == {
        "kind": "EXPIRE",
        "points": -750,
        "description": "Forfeited: account closed",
    }
    assert await check_ledger(backend.database.read_engine) == []


async def test_closing_is_refused_while_a_reward_is_not_handed_over_or_points_are_held(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(500)
    redemption, _ = await voucher_for(given, member, await given.reward("Mug", cost_points=100), "r1")
    pos = Pos(given)
    shop = await given.merchant()

    with_voucher = await close(given, member, "c1")
    assert (await pos.cancel(redemption, "x1"))["errors"] == []
    await pos.hold(shop, member, 50, key="h1")
    with_hold = await close(given, member, "c2")

    assert with_voucher["errors"][0]["code"] == "VALIDATION"
    assert "voucher" in with_voucher["errors"][0]["message"]
    assert with_hold["errors"][0]["message"].startswith("50 points are still held")
    balance = await given.balance(member)
    assert (balance["available"], balance["held"]) == (450, 50)
    assert await check_ledger(backend.database.read_engine) == []


async def test_under_keep_an_admin_reopens_within_the_grace_and_the_job_forfeits_after_it(
    given: Scenario, backend: Backend
) -> None:
    await keep_points_for(backend, 30)
    kept, reopened = await given.funded_member(400), await given.funded_member(250)

    closed = await close(given, kept, "c1")
    await close(given, reopened, "c2")
    back = await given.gql.data(
        REOPEN, {"input": {"memberId": reopened.gid, "reason": "changed its mind"}}, given.admin
    )
    uow_factory = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731
    early = await run_closure_forfeiture(uow_factory, FixedClock(datetime.now(UTC) + timedelta(days=29)))
    late = await run_closure_forfeiture(uow_factory, FixedClock(datetime.now(UTC) + timedelta(days=31)))
    too_late = await given.gql.data(REOPEN, {"input": {"memberId": kept.gid, "reason": "late"}}, given.admin)

    assert (closed["pointsForfeited"], closed["member"]["status"]) == (0, "CLOSED")
    forfeit_at = datetime.fromisoformat(closed["pointsForfeitAt"])
    assert timedelta(days=29, hours=23) < forfeit_at - datetime.now(UTC) <= timedelta(days=30)
    assert back["reopenMember"]["errors"] == []
    assert back["reopenMember"]["member"] == {"status": "ACTIVE", "closedAt": None, "pointsForfeitAt": None}
    assert (early.members, early.points) == (0, 0)
    assert (late.members, late.points) == (1, 400)
    assert too_late["reopenMember"]["errors"][0]["code"] == "VALIDATION"
    assert (await given.balance(reopened))["available"] == 250
    me = await given.gql.data(ME, token=given.tokens.member(kept.raw))
    assert me["me"]["balance"]["available"] == 0
    assert me["me"]["status"] == "CLOSED"
    assert await check_ledger(backend.database.read_engine) == []
