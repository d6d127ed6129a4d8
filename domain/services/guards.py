"""Offer guards: an admin sets them (audited); the `guards` job applies them, pausing an offer whose
guard trips through the offers' own status change (audited as the guard's doing). The rules are in
domain/experiments/guards.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import NotFound
from domain.experiments.guards import GuardKind, OfferGuard, checked_guards, trip
from domain.offers import OfferStatus
from domain.ports import UnitOfWork
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.services.offers import set_offer_status

BATCH = 200


@dataclass(frozen=True, slots=True)
class OfferGuards:
    """What setOfferGuards stored: the offer's guards after the change, by kind."""

    offer_id: int
    guards: tuple[OfferGuard, ...]


@dataclass(frozen=True, slots=True)
class GuardRun:
    checked: int  # armed guards looked at
    fired: int  # of which tripped and paused their offer


async def set_offer_guards(
    offer_id: int, guards: Sequence[OfferGuard], *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> OfferGuards:
    """Replace the offer's guards with these, armed (an empty list removes them). Audited."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        offer = await uow.offers.get(offer_id)
        if offer is None:
            raise NotFound("no such offer", ("offerId",))
        wanted = checked_guards(offer, guards)
        before = OfferGuards(offer_id, tuple(await uow.guards.for_offer(offer_id)))
        after = OfferGuards(offer_id, tuple(await uow.guards.replace(offer_id, wanted, now)))
        await uow.audit.record(audit_event(actor, "setOfferGuards", "Offer", offer_id, before, after, now))
        await uow.commit()
    return after


def guard_actor(guard: OfferGuard) -> Actor:
    """Who the audit log names for a guard's pause: the guard itself, acting with an admin's authority
    the admin gave it when setting it."""
    return Actor(role=Role.ADMIN, subject=f"offer-guard:{guard.id}:{guard.kind.value}")


async def run_guards(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> GuardRun:
    """Look at every armed guard of a live offer; pause the offers whose guard trips. One transaction
    per guard that fires: the firing is recorded only if no other process recorded it first, and the
    pause, its audit and the guard's own audit row commit with it, or none does. Idempotent: a fired
    guard is not armed, so a second run (or a second process) pauses nothing again."""
    checked = fired = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            batch = await uow.guards.armed(after, BATCH)
        for guard in batch:
            if await apply_guard(uow_factory, clock, guard):
                fired += 1
        checked += len(batch)
        if progress is not None and batch:
            progress(checked)
        if len(batch) < BATCH:
            return GuardRun(checked, fired)
        after = batch[-1].id


async def apply_guard(uow_factory: Callable[[], UnitOfWork], clock: Clock, guard: OfferGuard) -> bool:
    """Whether this guard, as the scan saw it, fired now and paused its offer: no, when its offer is no
    longer live, the rule does not trip, or another process recorded the firing first."""
    async with (uow := uow_factory()):
        now = clock.now()
        offer = await uow.offers.get(guard.offer_id)
        if offer is None or offer.status is not OfferStatus.ACTIVE:
            return False
        usage = await uow.offers.usage_of(offer.id)
        reading = await uow.guards.roi_reading(offer.id, now) if guard.kind is GuardKind.ROI else None
        verdict = trip(guard, offer, usage, reading, now)
        if verdict is None or not await uow.guards.fire(guard.id, now, verdict.reason):
            return False
        actor = guard_actor(guard)
        fired = replace(guard, fired_at=now, fired_reason=verdict.reason)
        await uow.audit.record(audit_event(actor, "fireOfferGuard", "Offer", offer.id, guard, fired, now))
        await set_offer_status(uow, offer, OfferStatus.PAUSED, actor, now)
        await uow.commit()
    return True
