"""Members' arms in offers' experiments: one insert that keeps what is already recorded."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.experiments.model import Assignment
from persistence.tables import experiment_assignments

_KEY = ["offer_id", "experiment_id", "member_id"]


async def record_assignments(conn: AsyncConnection, assignments: Sequence[Assignment], at: datetime) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, rows in (offer, experiment, member) order: two transactions
    recording the same member's arms meet the same keys in the same order, so they never wait for each
    other in a circle; a conflicting one waits for the first to commit, then keeps its record."""
    if not assignments:
        return
    rows = [
        {
            "offer_id": a.offer_id,
            "experiment_id": a.experiment_id,
            "member_id": a.member_id,
            "arm": a.arm,
            "assigned_at": at,
        }
        for a in sorted(assignments, key=lambda a: (a.offer_id, a.experiment_id, a.member_id))
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(experiment_assignments).on_conflict_do_nothing(index_elements=_KEY), rows
    )


class SqlAssignmentLog:
    """The wallet listing's arms, committed on their own in a short transaction of the writer. The
    arms this process has recorded are remembered (the latest `REMEMBERED`), so listing the same
    offers to the same member again writes nothing: on SQLite every write waits for the one writer."""

    REMEMBERED = 100_000

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._recorded: OrderedDict[tuple[int, int, int], None] = OrderedDict()

    async def record(self, assignments: Sequence[Assignment], at: datetime) -> None:
        new = [a for a in assignments if (a.offer_id, a.experiment_id, a.member_id) not in self._recorded]
        if not new:
            return
        async with self.engine.begin() as conn:
            await record_assignments(conn, new, at)
        for a in new:  # recorded (or found recorded): the first record stands either way
            self._recorded[(a.offer_id, a.experiment_id, a.member_id)] = None
        while len(self._recorded) > self.REMEMBERED:
            self._recorded.popitem(last=False)
