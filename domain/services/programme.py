"""The programme's lifecycle settings, changed by an admin: return window, validity and expiry rule,
transfer limit, POS hold length, dormancy, the tier window and grace, voucher validity, what
closing an account does to its points, and what a point is worth."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import time
from decimal import Decimal

from domain import validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import Validation
from domain.ports import UnitOfWork
from domain.programme import ClosurePolicy, ExpiryPolicy, Programme
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.statements import parse_point_value


@dataclass(frozen=True, slots=True)
class UpdateProgramme:
    """Only the settings given change; None leaves one as it is."""

    points_validity_months: int | None = None
    expiry_policy: ExpiryPolicy | None = None
    pending_days: int | None = None
    transfer_limit_per_month: int | None = None
    hold_minutes: int | None = None
    dormant_after_days: int | None = None
    tier_window_months: int | None = None
    tier_grace_days: int | None = None
    voucher_valid_days: int | None = None
    closure_policy: ClosurePolicy | None = None
    closure_grace_days: int | None = None
    expiry_notice_days: int | None = None
    marketing_per_week: int | None = None
    sign_up_nudge_days: int | None = None
    quiet_hours_start: str | None = None  # local HH:MM
    quiet_hours_end: str | None = None
    # (currency, what one point is worth in it), as given: a decimal in currency units.
    point_values: tuple[tuple[str, str], ...] = ()


# (lowest, highest) accepted, and the input field each setting comes from.
_RANGES: dict[str, tuple[int, int, str]] = {
    "points_validity_months": (1, 120, "pointsValidityMonths"),
    "pending_days": (0, 365, "pendingDays"),
    "transfer_limit_per_month": (0, 1_000_000_000, "transferLimitPerMonth"),
    "hold_minutes": (1, 7 * 24 * 60, "holdMinutes"),
    "dormant_after_days": (1, 3650, "dormantAfterDays"),
    "tier_window_months": (1, 60, "tierWindowMonths"),
    "tier_grace_days": (0, 365, "tierGraceDays"),
    "voucher_valid_days": (1, 365, "voucherValidDays"),
    "closure_grace_days": (1, 365, "closureGraceDays"),
    "expiry_notice_days": (1, 90, "expiryNoticeDays"),
    "marketing_per_week": (0, 100, "marketingPerWeek"),
    "sign_up_nudge_days": (1, 365, "signUpNudgeDays"),
}
_QUIET_HOURS = {"quiet_hours_start": "quietHoursStart", "quiet_hours_end": "quietHoursEnd"}


def _checked(cmd: UpdateProgramme) -> dict[str, object]:
    changes = {
        f.name: getattr(cmd, f.name)
        for f in fields(cmd)
        if f.name != "point_values" and getattr(cmd, f.name) is not None
    }
    if not changes and not cmd.point_values:
        raise Validation("name at least one setting to change", ())
    for name, (low, high, field) in _RANGES.items():
        value = changes.get(name)
        if value is None:
            continue
        validation.non_negative_int(value, (field,))
        if not low <= value <= high:
            raise Validation(f"must be between {low} and {high}", (field,))
    for name, field in _QUIET_HOURS.items():
        given = changes.get(name)
        if given is not None:
            changes[name] = _local_time(str(given), field)
    return changes


def _local_time(given: str, field: str) -> time:
    """HH:MM on a 24-hour clock, to the minute."""
    try:
        parsed = time.fromisoformat(given.strip())
    except ValueError as exc:
        raise Validation("a time as HH:MM, e.g. 22:00", (field,)) from exc
    if len(given.strip()) != 5 or parsed.tzinfo is not None:
        raise Validation("a time as HH:MM, e.g. 22:00", (field,))
    return parsed


async def update_programme(cmd: UpdateProgramme, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Programme:
    """New settings apply from now on: points already earned keep their expiry dates and purchases
    already pending keep their maturity, as the member was told when they were earned."""
    require_role(actor, Role.ADMIN)
    changes = _checked(cmd)
    now = clock.now()
    async with uow:
        before = await uow.programme.get()
        values = _point_values(cmd.point_values, before)
        # Only the settings given are written: two admins changing different ones both stand.
        if changes:
            await uow.programme.update(changes)
        if values:
            await uow.programme.set_point_values(values)
        after = await uow.programme.get()
        await uow.audit.record(audit_event(actor, "updateProgramme", "Programme", 1, before, after, now))
        await uow.commit()
    return after


def _point_values(given: tuple[tuple[str, str], ...], programme: Programme) -> dict[str, Decimal]:
    """The point values to set, each in a currency the programme accepts (VALIDATION otherwise)."""
    values: dict[str, Decimal] = {}
    for raw_currency, raw_value in given:
        currency = raw_currency.strip().upper()
        if currency not in programme.currencies:
            raise Validation(
                f"the programme accepts {sorted(programme.currencies)}", ("pointValues", "currency")
            )
        if currency in values:
            raise Validation(f"{currency} is given twice", ("pointValues", "currency"))
        values[currency] = parse_point_value(raw_value, ("pointValues", "value"))
    return values
