"""The audit trail: admin actions, erasures and security events. Never plain personal data: a
member's contact is masked before it is audited (`audited_member`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    action: str
    target_type: str
    target_id: int
    before: dict[str, object] | None
    after: dict[str, object] | None
    request_id: str
    at: datetime
    member_id: int | None = None  # the member concerned; for a Member target, its id by default


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored audit row, as admins read it: the event, its place in the log and its chain hashes."""

    id: int
    event: AuditEvent
    member_id: int | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Omitted fields do not filter; `since` inclusive, `until` exclusive."""

    actor: str | None = None
    action: str | None = None
    member_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
