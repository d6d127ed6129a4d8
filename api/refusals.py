"""Refusals that come without a transaction (rate-limit 429s, refused tokens), into the audit log
without letting a flood of refusals become a flood of writes.

Per process, per kind of refusal and per caller (role:subject, or `anonymous:<address>`), per minute:
the first refusal is written at once (count 1), and how many more followed in that minute is written
as one row (count n) once the minute is over: at most two rows per caller per minute, whatever the
flood. Closed minutes are written by the next refusal of any caller, or by `flush` (at shutdown).
Past MAX_CALLERS distinct callers in one minute (a spread-out flood), further callers are counted
together under `*`. The app writes the rows after it has sent the refusal (`refused` counts, `write`
writes), so a refusal is never kept waiting for a database connection; a database that cannot take
the row is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.audit import AuditEvent
from domain.clock import Clock
from domain.ports import UnitOfWork
from domain.services.security import record_audit_events, refusals_audit

logger = logging.getLogger("loyalty.api")

RATE_LIMITED = "security.rate_limited"
TOKEN_REFUSED = "security.token_refused"
WINDOW_SECONDS = 60
MAX_CALLERS = 10_000


@dataclass
class _Window:
    minute: int
    since: datetime
    more: int = 0  # refusals after the first, not yet written
    request_id: str = "-"  # the last of them


class RefusalAudit:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.windows: dict[tuple[str, str], _Window] = {}

    def refused(self, action: str, principal: str, request_id: str) -> list[AuditEvent]:
        """Count one refusal; the rows due now, for `write`."""
        now = self.clock.now()
        minute = int(now.timestamp()) // WINDOW_SECONDS
        events = self._closed(minute, now)
        key = (action, principal)
        if key not in self.windows and len(self.windows) >= MAX_CALLERS:
            key = (action, "*")
        window = self.windows.get(key)
        if window is None:
            self.windows[key] = _Window(minute, now)
            events.append(refusals_audit(action, key[1], 1, now, request_id, now))
        else:
            window.more += 1
            window.request_id = request_id
        return events

    async def flush(self) -> None:
        """Write every count still held, closed or not (at shutdown, and in tests)."""
        await self.write(self._closed(None, self.clock.now()))

    def _closed(self, minute: int | None, now: datetime) -> list[AuditEvent]:
        """Events for the windows before `minute` (all, when None), which are forgotten."""
        events = []
        for key, window in list(self.windows.items()):
            if minute is not None and window.minute >= minute:
                continue
            del self.windows[key]
            if window.more:
                events.append(
                    refusals_audit(key[0], key[1], window.more, window.since, window.request_id, now)
                )
        return events

    async def write(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        try:
            await record_audit_events(events, uow=self.uow_factory())
        except Exception:  # the refusal is answered whatever happens to its record
            logger.exception("could not audit %d refusal record(s)", len(events))
