"""The app's background worker for uploaded settlement files: started by the app's lifespan, woken
by each upload, and polling too, for imports another process queued or a dead worker left behind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from uuid import uuid4

from domain.clock import Clock
from domain.ports import UnitOfWorkFactory
from domain.services.settlement_imports import run_settlement_imports

logger = logging.getLogger("loyalty.settlements")


class SettlementWorker:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, poll_seconds: float) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.name = uuid4().hex  # whose lease an import is under; a restarted process is another worker
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def run(self) -> None:
        """Until cancelled. An error is logged and the loop goes on: the lease of the import it
        stopped lapses, and a later round takes the import up again after its last posted batch."""
        while True:
            self._woken.clear()
            try:
                run = await run_settlement_imports(
                    self.uow_factory, self.clock, lambda _: None, worker=self.name
                )
                if run.imports:
                    logger.info("settlement imports: %d files, %d lines", run.imports, run.lines)
            except Exception:
                logger.exception("settlement imports stopped; they resume when their lease lapses")
            with contextlib.suppress(TimeoutError):  # the poll interval passed without an upload
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
