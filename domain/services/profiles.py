"""Members' profiles: the lifecycle rules an admin sets, and the job that drops day counters past
their retention (the counters themselves are written by the purchase, settlement and refund use cases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.ports import UnitOfWork
from domain.profiles import RETENTION_DAYS, LifecycleRules, utc_day
from domain.services.admin import audit_event
from domain.services.common import require_role


@dataclass(frozen=True, slots=True)
class ActivityPruning:
    days: int  # days of counters dropped
    rows: int


async def update_lifecycle_rules(
    rules: LifecycleRules, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> LifecycleRules:
    """Replace the lifecycle thresholds (all four at once: they only make sense together); audited."""
    require_role(actor, Role.ADMIN)
    rules = rules.validated()
    async with uow:
        before = await uow.profiles.lifecycle_rules()
        await uow.profiles.set_lifecycle_rules(rules)
        await uow.audit.record(
            audit_event(actor, "updateLifecycleRules", "Programme", 1, before, rules, clock.now())
        )
        await uow.commit()
    return rules


async def prune_activity(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> ActivityPruning:
    """Drop the day counters older than RETENTION_DAYS, the oldest day first, a day per transaction.
    Idempotent, and safe beside purchases: a purchase is never more than 90 days old when posted."""
    before = utc_day(clock.now()) - timedelta(days=RETENTION_DAYS - 1)
    days = rows = 0
    while True:
        async with (uow := uow_factory()):
            dropped = await uow.profiles.drop_oldest_day(before)
            await uow.commit()
        if not dropped:
            return ActivityPruning(days, rows)
        days, rows = days + 1, rows + dropped
        if progress is not None:
            progress(days)
