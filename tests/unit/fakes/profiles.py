"""The profile port in memory, like persistence/repositories/profiles.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from domain.merchants import Channel
from domain.profiles import ActivityChange, LifecycleRules, merged

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase

ActivityKey = tuple[int, date, int, Channel, str]  # member, day, merchant, channel, currency


@dataclass
class ProfileTables:
    activity: dict[ActivityKey, tuple[int, int]] = field(default_factory=dict)  # (purchases, spend)
    lifecycle_rules: LifecycleRules = field(default_factory=LifecycleRules)


class FakeProfileRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def tables(self) -> ProfileTables:
        return self.db.tables.profiles

    async def add(self, changes: Sequence[ActivityChange]) -> None:
        for c in merged(changes):
            key = (c.member_id, c.day, c.merchant_id, c.channel, c.currency)
            purchases, spend = self.tables.activity.get(key, (0, 0))
            self.tables.activity[key] = (purchases + c.purchases, spend + c.spend_minor)

    async def drop_oldest_day(self, before: date) -> int:
        days = [key[1] for key in self.tables.activity if key[1] < before]
        if not days:
            return 0
        oldest = min(days)
        doomed = [key for key in self.tables.activity if key[1] == oldest]
        for key in doomed:
            del self.tables.activity[key]
        return len(doomed)

    async def lifecycle_rules(self) -> LifecycleRules:
        return self.tables.lifecycle_rules

    async def set_lifecycle_rules(self, rules: LifecycleRules) -> None:
        self.tables.lifecycle_rules = rules
