"""The fake database's notification and trigger tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.notifications import NotificationKind, SuppressReason
from domain.triggers import Trigger


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: int
    member_id: int
    kind: NotificationKind
    template: str
    key: str
    reason: SuppressReason | None
    at: datetime


@dataclass
class NotificationTables:
    notifications: dict[str, NotificationRow] = field(default_factory=dict)  # by key
    triggers: dict[int, Trigger] = field(default_factory=dict)
    firings: dict[tuple[int, str], tuple[int, int, list[str]]] = field(
        default_factory=dict
    )  # (id, member, outcomes)
    nudged: set[int] = field(default_factory=set)
    reacted: int = 0  # outbox events handled: the fake outbox is a list, handled in order
