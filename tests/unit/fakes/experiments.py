"""The wallet listing's assignment log, writing to the fake tables at once (its own commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.experiments.model import Assignment
from tests.unit.fakes.database import Repository


class FakeAssignmentLog(Repository):
    async def record(self, assignments: Sequence[Assignment], at: datetime) -> None:
        for a in assignments:
            self.t.assignments.setdefault((a.offer_id, a.experiment_id, a.member_id), (a.arm, at))
