"""Where a wallet's listing records the arms it assigned (outside any use case's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.experiments.model import Assignment


class AssignmentLog(Protocol):
    async def record(self, assignments: Sequence[Assignment], at: datetime) -> None:
        """Record these arms, each only if the member has none yet in that experiment; committed at
        once, on its own."""
        ...
