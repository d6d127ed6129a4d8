"""Append-only logs: the audit log and security events."""

from __future__ import annotations

from domain.audit import AuditEvent
from domain.security import SecurityEvent
from tests.unit.fakes.database import Repository


class FakeAuditLog(Repository):
    async def record(self, event: AuditEvent) -> None:
        self.t.audit.append(event)


class FakeSecurityEventLog(Repository):
    async def record(self, event: SecurityEvent) -> None:
        self.t.security_events.append(event)
