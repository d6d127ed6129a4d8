"""The outbox: events kept in the fake database's tables, so a rollback drops them as it drops rows."""

from __future__ import annotations

from domain.events import Event, EventType
from tests.unit.fakes.database import Repository


class FakeOutbox(Repository):
    async def add(self, *events: Event) -> None:
        self.t.outbox.extend(events)

    def of_type(self, type_: EventType) -> list[Event]:
        """The committed (or, inside a unit of work, pending) events of one type, for assertions."""
        return [e for e in self.t.outbox if e.type is type_]
