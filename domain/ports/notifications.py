"""Notifications: the record of every notice (sent or suppressed) and what the jobs look for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.notifications import NotificationKind, SuppressReason


@dataclass(frozen=True, slots=True)
class ExpiringLots:
    member_id: int
    expires_on: date  # the UTC day the lots expire on
    points: int  # what is left of them


class NotificationLog(Protocol):
    async def record(
        self,
        member_id: int,
        kind: NotificationKind,
        template: str,
        key: str,
        reason: SuppressReason | None,
        at: datetime,
    ) -> int | None:
        """Record a notice (sent when `reason` is None) under its unique `key`; its id, or None when a
        notice with that key exists already (nothing written)."""
        ...

    async def marketing_sent_since(self, member_id: int, since: datetime) -> int:
        """Marketing notices sent (not suppressed) to the member after `since`."""
        ...

    async def expiring(self, now: datetime, until: datetime, after: int, limit: int) -> list[ExpiringLots]:
        """Per member (id after `after`, up to `limit` members) and expiry day, the points left in
        lots expiring after `now` and at or before `until`."""
        ...

    async def suppressed_counts(self, since: datetime) -> dict[tuple[NotificationKind, SuppressReason], int]:
        """Suppressed notices since then, by kind and reason (what operators look at)."""
        ...
