"""Settlement files through the API: a merchant's upload is stored and queued; a worker posts it a
batch at a time with the settlement service (`import_settlement_batch`), the same rules and
idempotency as `scripts/import-purchases`.

Each batch records its progress (cursor, totals, bad lines) in its own transaction, so progress and
postings never disagree. A worker holds an import by a lease it renews with every batch; a worker
that dies leaves the lease to lapse, and the next one goes on after the cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import DomainError, NotFound, OutcomeUnknown, Unavailable, Validation
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.services.common import require_role
from domain.services.settlement import import_settlement_batch
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from domain.settlement_imports import (
    FORMATS,
    BatchProgress,
    ClaimedImport,
    Format,
    ImportStatus,
    count_lines,
    read_lines,
)

# As the command's default: one transaction per 1,000 lines.
BATCH_SIZE = 1000
# Far longer than a batch takes; renewed by every batch, so only a dead worker lets it lapse.
LEASE = timedelta(seconds=60)


async def queue_settlement_import(
    content: bytes, fmt: str, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> int:
    """Store the caller merchant's file as a QUEUED import; its id. A file the worker could not
    read at all (unknown format, a CSV header without the columns, no data line) is refused here."""
    require_role(actor, Role.MERCHANT)
    if actor.merchant_id is None:
        raise NotFound("the token names no merchant")
    if fmt not in FORMATS:
        raise Validation("the format must be csv or jsonl", ("format",))
    chosen: Format = "csv" if fmt == "csv" else "jsonl"
    try:
        # Off the event loop: a file at the size limit takes seconds to read through.
        total = await asyncio.to_thread(count_lines, content, chosen)
    except ValueError as exc:
        raise Validation(str(exc), ("file",)) from exc
    if total == 0:
        raise Validation("the file has no data lines", ("file",))
    async with uow:
        if await uow.merchants.get(actor.merchant_id) is None:
            raise NotFound("the merchant does not exist")
        import_id = await uow.settlement_imports.add(actor.merchant_id, chosen, content, total, clock.now())
        await uow.commit()
    return import_id


@dataclass(frozen=True, slots=True)
class ImportsRun:
    imports: int
    lines: int


class _LeaseLost(Exception):
    """Another worker took the import over (this one was too slow): the batch rolls back."""


async def run_settlement_imports(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    progress: Callable[[int], None],
    *,
    worker: str,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
) -> ImportsRun:
    """Post every import that is queued (or whose worker died), one after another, until none is
    left. `progress` hears the lines done so far in this run."""
    imports = lines = 0
    while (claimed := await _claim(uow_factory, clock, worker, lease)) is not None:
        imports += 1
        report = partial(_offset, progress, lines)
        lines += await _post_import(claimed, uow_factory, clock, report, worker, batch_size, lease)
    return ImportsRun(imports, lines)


def _offset(progress: Callable[[int], None], before: int, done: int) -> None:
    progress(before + done)


async def _claim(
    uow_factory: UnitOfWorkFactory, clock: Clock, worker: str, lease: timedelta
) -> ClaimedImport | None:
    uow = uow_factory()
    async with uow:
        now = clock.now()
        claimed = await uow.settlement_imports.claim(worker, now, now + lease)
        await uow.commit()
    return claimed


async def _post_import(
    claimed: ClaimedImport,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    progress: Callable[[int], None],
    worker: str,
    batch_size: int,
    lease: timedelta,
) -> int:
    """The lines this worker posted. Lines up to the cursor were posted by an earlier worker."""
    actor = Actor(
        role=Role.MERCHANT, subject=f"settlement-import:{claimed.id}", merchant_id=claimed.merchant_id
    )
    good: list[SettlementLine] = []
    bad: list[BadLine] = []
    done = last = 0

    async def post(cursor: int) -> None:
        lines, errors = good.copy(), bad.copy()
        good.clear()
        bad.clear()

        async def record(uow: UnitOfWork, outcome: BatchOutcome) -> None:
            batch = BatchProgress(
                cursor=cursor,
                lines=len(lines) + len(errors),
                posted=outcome.posted,
                duplicates=outcome.duplicates,
                points=outcome.points,
                errors=tuple(sorted([*errors, *outcome.rejected], key=lambda b: b.line_no)),
            )
            if not await uow.settlement_imports.record(claimed.id, worker, batch, clock.now() + lease):
                raise _LeaseLost

        await import_settlement_batch(lines, actor=actor, uow=uow_factory(), clock=clock, record=record)

    try:
        for item in read_lines(claimed.content, claimed.format):  # the header was checked on upload
            if item.line_no <= claimed.cursor:
                continue
            if isinstance(item, SettlementLine):
                good.append(item)
            else:
                bad.append(item)
            last = item.line_no
            if len(good) + len(bad) >= batch_size:
                done += len(good) + len(bad)
                await post(last)
                progress(done)
        if good or bad:
            done += len(good) + len(bad)
            await post(last)
            progress(done)
        status, failure = ImportStatus.DONE, None
    except _LeaseLost:
        return done
    except (Unavailable, OutcomeUnknown):
        raise  # the database, not the file: the lease lapses and a worker tries again
    except DomainError as error:  # the whole file cannot be posted (its merchant is gone)
        status, failure = ImportStatus.FAILED, error.message
    uow = uow_factory()
    async with uow:
        if await uow.settlement_imports.finish(claimed.id, worker, status, clock.now(), failure):
            await uow.commit()
    return done
