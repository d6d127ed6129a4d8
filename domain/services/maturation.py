"""Maturation: when a purchase's return window has passed, its pending points become available,
in a lot that expires by the programme's rule from that day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain import events
from domain.clock import Clock
from domain.earning import earn_lot, mature_entry
from domain.ports import UnitOfWork
from domain.services.posting import lock_members, post_entry

BATCH = 500


@dataclass(frozen=True, slots=True)
class MaturationRun:
    purchases: int
    points: int


async def run_maturation(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> MaturationRun:
    """Mature every due purchase, one per transaction with its member's balance row locked first:
    idempotent, and safe to run twice at once (the second finds nothing left to take)."""
    now = clock.now()
    purchases = points = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            due = await uow.purchases.due_for_maturity(now, after, BATCH)
        if not due:
            return MaturationRun(purchases, points)
        for purchase_id, member_id in due:
            async with (uow := uow_factory()):
                # Another transaction holds the member (a purchase, or the other job): leave it for
                # the next run rather than queue behind it.
                if not await lock_members(uow, [member_id], skip_locked=True):
                    continue
                taken = await uow.purchases.mature(purchase_id)
                if taken:
                    programme = await uow.programme.get()
                    await post_entry(
                        uow,
                        mature_entry(member_id, purchase_id, taken),
                        now,
                        earn_lot(member_id, taken, now, programme),
                    )
                    await uow.outbox.add(
                        events.points_matured(
                            member_id=member_id, purchase_id=purchase_id, points=taken, at=now
                        )
                    )
                    await uow.commit()
                    purchases += 1
                    points += taken
        after = due[-1][0]
        if progress is not None:
            progress(purchases)
