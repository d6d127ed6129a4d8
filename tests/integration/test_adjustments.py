"""adjustPoints and the audit trail of admin actions."""

from __future__ import annotations

from sqlalchemy import select

from persistence.tables import audit_log
from tests.builders import Scenario
from tests.conftest import Backend


async def audit_rows(backend: Backend) -> list:
    async with backend.database.read_engine.connect() as conn:
        return list((await conn.execute(select(audit_log).order_by(audit_log.c.id))).all())


async def test_positive_and_negative_adjustments_are_exact_and_audited(
    given: Scenario, backend: Backend
) -> None:
    member = await given.member()

    credit = await given.adjust(member, 500, key="a1", reason="GOODWILL")
    debit = await given.adjust(member, -200, key="a2", reason="CORRECTION")

    assert credit["errors"] == []
    assert debit["errors"] == []
    assert debit["member"]["balance"]["available"] == 300
    rows = [r for r in await audit_rows(backend) if r.action == "adjustPoints"]
    assert [(r.before["available"], r.after["available"]) for r in rows] == [(0, 500), (500, 300)]
    assert rows[1].after["reasonCode"] == "CORRECTION"
    assert rows[1].actor == "admin@test"
    assert rows[1].request_id


async def test_negative_adjustment_beyond_balance_is_refused(given: Scenario) -> None:
    member = await given.funded_member(100)

    result = await given.adjust(member, -101, key="a1", reason="FRAUD_REVERSAL")

    assert result["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert (await given.balance(member))["available"] == 100


async def test_zero_points_is_a_validation_error(given: Scenario) -> None:
    member = await given.member()
    result = await given.adjust(member, 0, key="a1")
    assert result["errors"][0] == {
        "code": "VALIDATION",
        "field": ["points"],
        "message": result["errors"][0]["message"],
    }


async def test_every_admin_mutation_is_audited(given: Scenario, backend: Backend) -> None:
    member = await given.member()
    await given.merchant()
    await given.reward()
    await given.gql.data(
        'mutation { createPartnerBrand(input: {name: "SkyWing", kind: AIRLINE}) { errors { code } } }',
        token=given.admin,
    )
    await given.gql.data(
        "mutation($i: LockMemberInput!) { lockMember(input: $i) { errors { code } } }",
        {"i": {"memberId": member.gid, "reason": "chargeback"}},
        given.admin,
    )

    actions = [r.action for r in await audit_rows(backend)]

    assert actions == ["enrollMember", "createMerchant", "createReward", "createPartnerBrand", "lockMember"]


async def test_duplicate_external_ref_and_unknown_referral(given: Scenario) -> None:
    await given.member("cust-42")
    dup = await given.gql.data(
        'mutation { enrollMember(input: {externalRef: "cust-42"}) { member { id } errors { code field } } }',
        token=given.admin,
    )
    bad_ref = await given.gql.data(
        'mutation { enrollMember(input: {externalRef: "cust-43", referralCode: "NOPE1234"}) '
        "{ member { id } errors { code field } } }",
        token=given.admin,
    )
    assert dup["enrollMember"]["errors"] == [{"code": "ALREADY_EXISTS", "field": ["externalRef"]}]
    assert bad_ref["enrollMember"]["errors"] == [{"code": "NOT_FOUND", "field": ["referralCode"]}]
