"""An admin's reads of one member's personal data, written to the audit log: one row per member per
request, naming every part read (contact, profile), written before the data leaves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from domain.services.security import personal_data_read, record_audit_events

if TYPE_CHECKING:
    from api.context import Context

# The fields each part names in the audit row, in this order.
PARTS: dict[str, tuple[str, ...]] = {"contact": ("phone", "email"), "profile": ("profile",)}


async def record_personal_read(context: Context, member_id: int, part: str) -> None:
    """Waits until the row naming this read is committed. Parts of one member read together (sibling
    fields of one request) are batched into one row; a part read again in the request writes nothing."""
    if context.personal_reads is None:
        context.personal_reads = DataLoader(lambda keys: _record(context, keys))
    await context.personal_reads.load((member_id, part))


async def _record(context: Context, keys: list[tuple[int, str]]) -> list[None]:
    from api.mutations.payload import retrying_for  # the payload module imports the context

    actor = context.actor
    assert actor is not None
    now = context.clock.now()
    parts: dict[int, set[str]] = {}
    for member_id, part in keys:
        parts.setdefault(member_id, set()).add(part)
    events = [
        personal_data_read(actor, member_id, [f for p in PARTS if p in read for f in PARTS[p]], now)
        for member_id, read in parts.items()
    ]
    await retrying_for(context, lambda: record_audit_events(events, uow=context.uow_factory()))
    return [None for _ in keys]
