"""Recording security events."""

from __future__ import annotations

from domain.ports import UnitOfWork
from domain.security import SecurityEvent


async def record_security_event(event: SecurityEvent, *, uow: UnitOfWork) -> None:
    """In a short transaction of its own: the refused request's work is rolled back, this is kept."""
    async with uow:
        await uow.security_events.record(event)
        await uow.commit()
