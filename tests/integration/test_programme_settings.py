"""The programme's lifecycle settings, on both databases: an admin changes them (audited, typed
refusals that change nothing), end-of-period expiry dates new lots, and a merchant's own return
window overrides the programme's."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from domain.programme import add_months
from persistence.queries.ledger_check import check_ledger
from persistence.tables import points_lots
from tests.builders import Ids, Scenario
from tests.conftest import Backend

SETTINGS = """{ programme { pointsValidityMonths expiryPolicy pendingDays transferLimitPerMonth holdMinutes
  dormantAfterDays tierWindowMonths tierGraceDays currencies } }"""
UPDATE = """mutation($input: UpdateProgrammeInput!) {
  updateProgramme(input: $input) { programme { pointsValidityMonths expiryPolicy pendingDays }
    errors { code field message } }
}"""
LEDGER = "{ me { ledger(first: 5) { edges { node { kind account points description } } } } }"


@pytest.fixture
async def restore_programme(backend: Backend) -> AsyncIterator[None]:
    """Settings are shared by every test of the session: put back what this test changed."""
    columns = ("points_validity_months", "expiry_policy", "pending_days", "hold_minutes")
    async with backend.database.write_engine.connect() as conn:
        before = (await conn.execute(text(f"SELECT {', '.join(columns)} FROM programme"))).one()
    yield
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE programme SET {assignments}, catalogue_version = catalogue_version + 1"),
            dict(zip(columns, before, strict=True)),
        )


async def update(given: Scenario, token: str | None = None, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(UPDATE, {"input": fields}, token or given.admin)
    return data["updateProgramme"]


async def lot_expiries(backend: Backend, member: Ids) -> list[datetime]:
    lots = points_lots.c
    async with backend.database.read_engine.connect() as conn:
        statement = select(lots.expires_at).where(lots.member_id == member.raw).order_by(lots.id)
        rows = await conn.execute(statement)
        return list(rows.scalars())


async def test_an_admin_changes_settings_and_everyone_reads_them(
    backend: Backend, given: Scenario, restore_programme: None
) -> None:
    merchant = await given.merchant()
    changed = await update(given, pendingDays=7, expiryPolicy="END_OF_YEAR", pointsValidityMonths=12)
    read = await given.gql.data(SETTINGS, token=given.tokens.merchant(merchant.raw))

    assert changed == {
        "programme": {"pointsValidityMonths": 12, "expiryPolicy": "END_OF_YEAR", "pendingDays": 7},
        "errors": [],
    }
    assert read["programme"]["pendingDays"] == 7
    assert read["programme"]["holdMinutes"] == 30
    async with backend.database.read_engine.connect() as conn:
        audited = (
            await conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'updateProgramme'")
        ).scalar()
    assert audited == 1


async def test_bad_settings_are_refused_and_change_nothing(
    backend: Backend, given: Scenario, restore_programme: None
) -> None:
    member = await given.member()
    before = await given.gql.data(SETTINGS, token=given.admin)

    negative = await update(given, pendingDays=-1)
    too_long = await update(given, holdMinutes=100_000)
    nothing = await update(given)
    forbidden = await given.gql.post(UPDATE, {"input": {"pendingDays": 3}}, given.tokens.member(member.raw))

    assert negative["errors"][0]["code"] == "VALIDATION"
    assert negative["errors"][0]["field"] == ["pendingDays"]
    assert too_long["errors"][0]["field"] == ["holdMinutes"]
    assert nothing["errors"][0]["code"] == "VALIDATION"
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await given.gql.data(SETTINGS, token=given.admin) == before


@pytest.mark.parametrize("policy", ["FIXED_MONTHS", "END_OF_MONTH", "END_OF_YEAR"])
async def test_the_expiry_policy_dates_new_lots(
    backend: Backend, given: Scenario, restore_programme: None, policy: str
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    assert (await update(given, expiryPolicy=policy, pointsValidityMonths=12))["errors"] == []

    before = datetime.now(UTC)
    await given.purchase(merchant, member, 10_000, key="p1")
    [expires_at] = await lot_expiries(backend, member)

    year_on = add_months(before, 12)
    end_of_day = (23, 59, 59, 999_999)
    if policy == "FIXED_MONTHS":
        assert abs((expires_at - year_on).total_seconds()) < 60
    elif policy == "END_OF_MONTH":
        last_day = calendar.monthrange(year_on.year, year_on.month)[1]
        assert expires_at == datetime(year_on.year, year_on.month, last_day, *end_of_day, tzinfo=UTC)
    else:
        assert expires_at == datetime(year_on.year, 12, 31, *end_of_day, tzinfo=UTC)
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_merchants_own_return_window_overrides_the_programmes(
    backend: Backend, given: Scenario
) -> None:
    travel = await given.merchant("Sky Travel", "TRAVEL", pendingDays=30)
    noodles = await given.merchant()
    member = await given.member()

    await given.purchase(travel, member, 20_000, key="trip")
    await given.purchase(noodles, member, 3_000, key="lunch")
    balance = await given.balance(member)
    ledger = await given.gql.data(LEDGER, token=given.tokens.member(member.raw))

    assert (balance["available"], balance["pending"]) == (30, 200)
    descriptions = [e["node"]["description"] for e in ledger["me"]["ledger"]["edges"]]
    assert descriptions[0] == "Earned at Noodle Bar"
    assert descriptions[1].startswith("Earned at Sky Travel, pending until ")
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_merchants_return_window_is_checked(given: Scenario) -> None:
    data = await given.gql.data(
        "mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { errors { code field } } }",
        {"input": {"name": "Odd", "category": "OTHER", "pendingDays": 400}},
        given.admin,
    )
    assert data["createMerchant"]["errors"] == [{"code": "VALIDATION", "field": ["pendingDays"]}]
