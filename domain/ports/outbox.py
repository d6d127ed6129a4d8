"""The outbox: business events written in the transaction that caused them."""

from __future__ import annotations

from typing import Protocol

from domain.events import Event


class Outbox(Protocol):
    async def add(self, *events: Event) -> None:
        """Keep the events for this transaction: they are written with its commit, and only then
        (a rolled-back transaction leaves none)."""
        ...
