"""Triggered campaigns: the triggers, their firings (one per trigger and event), and the feed of
outbox events the consumer reacts to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.events import Event, EventType
from domain.merchants import MerchantCategory
from domain.triggers import Action, Condition, Trigger


class TriggerRepository(Protocol):
    async def add(
        self,
        name: str,
        event_type: EventType,
        conditions: tuple[Condition, ...],
        actions: tuple[Action, ...],
        at: datetime,
    ) -> Trigger: ...
    async def update(self, trigger: Trigger) -> None: ...
    async def get(self, trigger_id: int) -> Trigger | None: ...
    async def all(self) -> list[Trigger]: ...
    async def active_for(self, event_type: EventType) -> list[Trigger]: ...

    async def fire(self, trigger_id: int, event_id: str, member_id: int, at: datetime) -> int | None:
        """Record that the trigger fired on the event, unique per (trigger, event); the firing's id,
        or None when it fired on that event already (then its effects are made, or being made by a
        concurrent transaction that holds the row)."""
        ...

    async def record_outcomes(self, firing_id: int, outcomes: Sequence[str]) -> None: ...
    async def firings(self, trigger_id: int) -> list[tuple[str, int, list[str]]]:
        """(event id, member id, outcomes) of each firing, oldest first."""
        ...

    async def earlier_in_category(self, member_id: int, category: MerchantCategory, purchase_id: int) -> int:
        """The member's purchases at merchants of `category` before `purchase_id`."""
        ...

    async def available_around(self, member_id: int, purchase_id: int) -> tuple[int, int] | None:
        """The member's available points just before and just after the purchase's journal entries
        (the same whenever asked); None when it has none (its points are pending or held)."""
        ...

    async def without_purchase(
        self, enrolled_by: datetime, after: int, limit: int
    ) -> list[tuple[int, datetime]]:
        """ACTIVE members enrolled at or before `enrolled_by` with no purchase and not yet nudged,
        (id, enrolled at), by id after `after`."""
        ...

    async def mark_nudged(self, member_id: int, at: datetime) -> bool:
        """Mark the member nudged; False when it was already."""
        ...

    async def unreacted(self, limit: int) -> list[tuple[int, Event]]:
        """Up to `limit` committed outbox events the consumer has not handled, oldest first, with
        their sequence numbers; rows another consumer holds are skipped."""
        ...

    async def reacted(self, seqs: Sequence[int]) -> None: ...
