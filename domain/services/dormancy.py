"""Dormancy (沉睡用戶): an ACTIVE member with no activity of its own for the programme's
`dormant_after_days` is marked dormant, and shows as DORMANT until it acts again: the ledger clears
the mark with any earn, redemption, hold or transfer of its own. Win-back offers
(`Eligibility.dormant_only`) are for members dormant when their purchase begins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain import events
from domain.clock import Clock
from domain.ports import UnitOfWork

BATCH = 1_000


@dataclass(frozen=True, slots=True)
class DormancyRun:
    members: int  # newly marked dormant


async def run_dormancy(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> DormancyRun:
    """Mark the members inactive since before the cutoff, a batch per transaction. Idempotent (a
    marked member is not marked again) and safe to run twice at once: each batch takes only rows no
    other transaction holds, so two jobs share the work and a member acting right now is left alone."""
    now = clock.now()
    async with (uow := uow_factory()):
        programme = await uow.programme.get()
    inactive_since = now - timedelta(days=programme.dormant_after_days)
    marked = 0
    while True:
        async with (uow := uow_factory()):
            marked_ids = await uow.members.mark_dormant(inactive_since, now, BATCH)
            await uow.outbox.add(
                *(
                    events.member_dormant(member_id=m, inactive_since=inactive_since, at=now)
                    for m in marked_ids
                )
            )
            await uow.commit()
        count = len(marked_ids)
        marked += count
        if progress is not None and count:
            progress(marked)
        if count < BATCH:
            return DormancyRun(marked)
