"""updateProgramme over the fakes: only the settings named change, each within its range (both ends
accepted, one past either refused), audited; points earned and purchases pending keep what they were
told, and new settings apply from now on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.members import Balance
from domain.programme import ExpiryPolicy, Programme
from domain.services.maturation import run_maturation
from domain.services.programme import UpdateProgramme, update_programme
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import ADMIN, balance, given_member, given_merchant, lots_of, raised, snapshot

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

RANGES = {
    "points_validity_months": (1, 120, "pointsValidityMonths"),
    "pending_days": (0, 365, "pendingDays"),
    "transfer_limit_per_month": (0, 1_000_000_000, "transferLimitPerMonth"),
    "hold_minutes": (1, 7 * 24 * 60, "holdMinutes"),
    "dormant_after_days": (1, 3650, "dormantAfterDays"),
    "tier_window_months": (1, 60, "tierWindowMonths"),
    "tier_grace_days": (0, 365, "tierGraceDays"),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def update(db: FakeDatabase, clock: FixedClock, **settings: Any) -> Programme:
    return await update_programme(
        UpdateProgramme(**settings), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )


async def test_only_the_settings_named_change_and_the_change_is_audited(clock: FixedClock) -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    after = await update_programme(
        UpdateProgramme(pending_days=7, expiry_policy=ExpiryPolicy.END_OF_YEAR),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    assert after == replace(DEFAULT_PROGRAMME, pending_days=7, expiry_policy=ExpiryPolicy.END_OF_YEAR)
    assert db.tables.programme == after
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        "admin-ada",
        "updateProgramme",
        "Programme",
        1,
        NOW,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["pending_days"], event.after["pending_days"]) == (0, 7)
    assert (event.before["expiry_policy"], event.after["expiry_policy"]) == ("FIXED_MONTHS", "END_OF_YEAR")
    assert event.after["transfer_limit_per_month"] == DEFAULT_PROGRAMME.transfer_limit_per_month
    assert uow.commits == 1


@pytest.mark.parametrize("name", sorted(RANGES))
async def test_each_setting_accepts_both_ends_of_its_range(clock: FixedClock, name: str) -> None:
    db = FakeDatabase()
    low, high, _ = RANGES[name]

    assert getattr(await update(db, clock, **{name: low}), name) == low
    assert getattr(await update(db, clock, **{name: high}), name) == high
    assert getattr(db.tables.programme, name) == high


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, low - 1) for name, (low, _, _) in sorted(RANGES.items())]
    + [(name, high + 1) for name, (_, high, _) in sorted(RANGES.items())],
)
async def test_one_past_either_end_is_validation_on_its_field_and_nothing_changes(
    clock: FixedClock, name: str, value: int
) -> None:
    db = FakeDatabase()
    before = snapshot(db)

    refused = await raised(update(db, clock, **{name: value}))

    low, high, field = RANGES[name]
    assert (refused.code, refused.field, refused.message) == (
        ErrorCode.VALIDATION,
        (field,),
        # below zero is refused as a negative count before the range is looked at
        "must not be negative" if value < 0 else f"must be between {low} and {high}",
    )
    assert db.tables == before


async def test_naming_nothing_is_validation(clock: FixedClock) -> None:
    db = FakeDatabase()

    refused = await raised(update(db, clock))

    assert (refused.code, refused.message) == (ErrorCode.VALIDATION, "name at least one setting to change")
    assert db.tables.audit == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.PARTNER])
async def test_only_an_admin_changes_the_programme(clock: FixedClock, role: Role) -> None:
    db = FakeDatabase()

    refused = await raised(
        update_programme(
            UpdateProgramme(pending_days=3), actor=Actor(role, "x"), uow=FakeUnitOfWork(db), clock=clock
        )
    )

    assert refused.code is ErrorCode.FORBIDDEN
    assert db.tables.programme == DEFAULT_PROGRAMME


async def test_new_settings_apply_from_now_on_and_what_was_earned_keeps_its_terms(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await update(db, clock, pending_days=10)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")  # pending for 10 days

    await update(db, clock, pending_days=0, points_validity_months=1)
    await buy(db, clock, merchant.id, member.id, 5_000, "pos-2")  # at once, valid one month

    assert balance(db, member.id) == Balance(member.id, 50, 100, 0, 150, 0)
    [lot] = lots_of(db, member.id)
    assert lot.expires_at == datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
    clock.at = NOW + timedelta(days=10) - timedelta(microseconds=1)
    assert (await run_maturation(lambda: FakeUnitOfWork(db), clock)).purchases == 0
    clock.at = NOW + timedelta(days=10)
    assert (await run_maturation(lambda: FakeUnitOfWork(db), clock)).points == 100
    assert balance(db, member.id) == Balance(member.id, 150, 0, 0, 150, 0)
