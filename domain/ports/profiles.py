"""Members' behavioural profiles: the day counters purchases and refunds add to, and the lifecycle rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domain.profiles import ActivityChange, LifecycleRules


class ProfileRepository(Protocol):
    async def add(self, changes: Sequence[ActivityChange]) -> None:
        """Add each change to its counter row (made at zero when missing), in the current transaction."""
        ...

    async def drop_oldest_day(self, before: date) -> int:
        """Delete the counter rows of the oldest day before `before` (a day at a time keeps each
        transaction short); how many were deleted, 0 when no day before it is left."""
        ...

    async def lifecycle_rules(self) -> LifecycleRules: ...

    async def set_lifecycle_rules(self, rules: LifecycleRules) -> None: ...
