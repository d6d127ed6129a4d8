"""Tiers: admins define the ladder (audited); a purchase upgrades at once; the evaluation job starts
grace periods and downgrades (scripts/jobs). The rules themselves are in `domain/tiers.py`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import CreateTier, Unchanged, UpdateTier
from domain.errors import AlreadyExists, NotFound, Validation
from domain.members import Member
from domain.ports import UnitOfWork
from domain.programme import Programme
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.services.posting import lock_members
from domain.tiers import (
    MAX_MULTIPLIER,
    MIN_MULTIPLIER,
    Tier,
    TierChangeReason,
    TierDecision,
    decide,
    decide_on_purchase,
    entry_tier,
    ladder_currency,
    ladder_refusal,
    window_start,
    worth_checking_on_purchase,
)

BATCH = 500


async def create_tier(cmd: CreateTier, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Tier:
    require_role(actor, Role.ADMIN)
    draft = _clean(
        Tier(
            id=0,
            code=cmd.code,
            name=cmd.name,
            rank=cmd.rank,
            min_points=cmd.min_points,
            min_spend=cmd.min_spend,
            earn_multiplier=cmd.earn_multiplier,
        )
    )
    now = clock.now()
    async with uow:
        checked = await _fits_ladder(uow, draft)
        tier = await uow.tiers.add(checked, now)
        await uow.audit.record(audit_event(actor, "createTier", "Tier", tier.id, None, tier, now))
        await uow.commit()
    return tier


async def update_tier(cmd: UpdateTier, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Tier:
    """Change a tier; members are moved by the rules from their next purchase or evaluation on."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        current = next((t for t in await uow.tiers.ladder() if t.id == cmd.tier_id), None)
        if current is None:
            raise NotFound("no such tier", ("id",))
        changed = _clean(
            replace(
                current,
                code=_or(cmd.code, current.code),
                name=_or(cmd.name, current.name),
                rank=_or(cmd.rank, current.rank),
                min_points=_or(cmd.min_points, current.min_points),
                min_spend=_or(cmd.min_spend, current.min_spend),
                earn_multiplier=_or(cmd.earn_multiplier, current.earn_multiplier),
            )
        )
        checked = await _fits_ladder(uow, changed)
        if replace(checked, updated_at=None) == replace(current, updated_at=None):
            return current  # nothing to change, nothing to audit
        tier = await uow.tiers.update(checked, now)
        await uow.audit.record(audit_event(actor, "updateTier", "Tier", tier.id, current, tier, now))
        await uow.commit()
    return tier


T = TypeVar("T")


def _or(value: T | Unchanged, current: T) -> T:
    return current if isinstance(value, Unchanged) else value


def _clean(tier: Tier) -> Tier:
    """The tier's own fields checked; where it sits in the ladder is checked by `_fits_ladder`."""
    code = validation.text(tier.code, ("code",), max_length=20).upper()
    if any(ch.isspace() for ch in code):
        raise Validation("a code has no spaces", ("code",))
    name = validation.text(tier.name, ("name",), max_length=60)
    validation.non_negative_int(tier.rank, ("rank",))
    if tier.min_points is not None:
        validation.positive_int(tier.min_points, ("minPoints",))
    return replace(tier, code=code, name=name, earn_multiplier=_multiplier(tier.earn_multiplier))


def _multiplier(value: Decimal) -> Decimal:
    field = ("earnMultiplier",)
    try:
        multiplier = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise Validation("must be a decimal number like 1.5", field) from exc
    if not multiplier.is_finite() or not MIN_MULTIPLIER <= multiplier <= MAX_MULTIPLIER:
        raise Validation(f"must be between {MIN_MULTIPLIER} and {MAX_MULTIPLIER}", field)
    if multiplier.as_tuple().exponent < -4:  # type: ignore[operator]  # a finite Decimal: exponent is an int
        raise Validation("at most 4 decimal places", field)
    return multiplier


async def _fits_ladder(uow: UnitOfWork, tier: Tier) -> Tier:
    programme = await uow.programme.get()
    if tier.min_spend is not None:
        spend = validation.money(tier.min_spend, ("minSpend",), programme.currencies)
        tier = replace(tier, min_spend=spend)
    ladder = await uow.tiers.ladder()
    others = [t for t in ladder if t.id != tier.id]
    if any(t.code == tier.code for t in others):
        raise AlreadyExists(f"a tier with code {tier.code} exists", ("code",))
    if any(t.rank == tier.rank for t in others):
        raise AlreadyExists(f"a tier with rank {tier.rank} exists", ("rank",))
    refusal = ladder_refusal(ladder, tier)
    if refusal is not None:
        raise Validation(*refusal)
    return tier


async def upgrade_after_purchase(
    uow: UnitOfWork,
    member: Member,
    ladder: Sequence[Tier],
    programme: Programme,
    now: datetime,
    *,
    locked: bool,
) -> TierDecision | None:
    """Move the member up at once when its purchases in the window now reach a higher tier (or end
    its grace when they reach its own tier again). Costs nothing without tiers or at the top tier;
    else one aggregate over the member's purchases in the window. Runs with the member's balance
    row locked (`locked`, or locked here), so it is serialized with the evaluation job."""
    if not worth_checking_on_purchase(ladder, member):
        return None
    if not locked:
        await lock_members(uow, [member.id])
    since = window_start(now, programme.tier_window_months)
    q = await uow.tiers.qualification(member.id, since, ladder_currency(ladder))
    decision = decide_on_purchase(ladder, member, q)
    if decision is None or not await uow.tiers.apply(member, decision, q, now):
        return None
    await uow.outbox.add(tier_event(member.id, decision, now))
    return decision


def tier_event(member_id: int, decision: TierDecision, now: datetime) -> events.Event:
    return events.tier_changed(
        member_id=member_id,
        from_tier_id=None if decision.from_tier is None else decision.from_tier.id,
        to_tier_id=None if decision.to_tier is None else decision.to_tier.id,
        reason=decision.reason.value,
        at=now,
    )


@dataclass(frozen=True, slots=True)
class TierRun:
    members: int  # evaluated
    upgraded: int
    downgraded: int
    grace_started: int = 0
    requalified: int = 0
    skipped: int = 0  # another transaction held the member: left for it (or the next run)


async def run_tier_evaluation(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> TierRun:
    """Evaluate every member that holds a tier above the entry tier, is in grace, or bought in the
    window: upgrade, start a grace period, end it, or downgrade (`domain.tiers.decide`), with a
    history line for each. One transaction per member, its balance row locked first and skipped
    when another holds it: idempotent, and safe to run in two processes at once."""
    now = clock.now()
    async with (uow := uow_factory()):
        programme = await uow.programme.get()
        ladder = list(await uow.tiers.ladder())
    if not ladder:
        return TierRun(0, 0, 0)
    since = window_start(now, programme.tier_window_months)
    entry = entry_tier(ladder)
    counts = dict.fromkeys(TierChangeReason, 0)
    evaluated = skipped = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            ids = await uow.tiers.members_to_evaluate(
                since, after, BATCH, None if entry is None else entry.id
            )
        if not ids:
            break
        for member_id in ids:
            async with (uow := uow_factory()):
                if not await lock_members(uow, [member_id], skip_locked=True):
                    skipped += 1
                    continue
                member = await uow.members.get(member_id)
                if member is None:
                    continue
                evaluated += 1
                programme = await uow.programme.get()
                ladder = list(await uow.tiers.ladder())
                q = await uow.tiers.qualification(member.id, since, ladder_currency(ladder))
                decision = decide(ladder, member, q, now, programme.tier_grace_days)
                if decision is not None and await uow.tiers.apply(member, decision, q, now):
                    await uow.outbox.add(tier_event(member.id, decision, now))
                    await uow.commit()
                    counts[decision.reason] += 1
        after = ids[-1]
        if progress is not None:
            progress(evaluated)
    return TierRun(
        members=evaluated,
        upgraded=counts[TierChangeReason.UPGRADE],
        downgraded=counts[TierChangeReason.DOWNGRADE],
        grace_started=counts[TierChangeReason.GRACE],
        requalified=counts[TierChangeReason.REQUALIFIED],
        skipped=skipped,
    )
