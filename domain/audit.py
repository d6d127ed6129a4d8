"""The audit trail of admin actions."""

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
