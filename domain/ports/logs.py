"""Append-only logs: the audit log and security events."""

from __future__ import annotations

from typing import Protocol

from domain.audit import AuditEvent
from domain.security import SecurityEvent


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


class SecurityEventLog(Protocol):
    async def record(self, event: SecurityEvent) -> None: ...
