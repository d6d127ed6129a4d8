"""Settlement files through the API at the edges, over the fakes: the upload's refusals with their
messages and what an accepted one stores; the worker's lease (taken, renewed by each batch, taken
over only once it lapses, the next worker going on after the cursor); batches counted with their bad
lines, in line order; several imports in one run; a file whose merchant is gone fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode, Unavailable
from domain.services.settlement_imports import (
    LEASE,
    ImportsRun,
    queue_settlement_import,
    run_settlement_imports,
)
from domain.settlement_imports import ImportStatus
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork, linked
from tests.unit.test_services import balance, given_member, given_merchant, merchant_actor, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HEADER = "reference,member,amount,currency,time,channel"
WHEN = (NOW - timedelta(days=1)).isoformat()


def csv_file(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def row(reference: str, member: str, amount: str) -> str:
    return f"{reference},{member},{amount},CNY,{WHEN},"


async def given_shop(db: FakeDatabase) -> tuple[int, int, str]:
    """(member id, merchant id, the member's reference at the merchant)."""
    member = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    ref = linked(db, merchant.id, member.id).ref
    assert ref is not None
    return member.id, merchant.id, ref


async def queue(db: FakeDatabase, merchant_id: int, content: bytes, fmt: str = "csv") -> int:
    return await queue_settlement_import(
        content, fmt, actor=merchant_actor(merchant_id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )


async def work(
    db: FakeDatabase,
    at: datetime = NOW,
    *,
    worker: str = "w",
    batch_size: int = 2,
    progress: Callable[[int], None] | None = None,
    factory: Callable[[], FakeUnitOfWork] | None = None,
) -> ImportsRun:
    return await run_settlement_imports(
        factory or (lambda: FakeUnitOfWork(db)),
        FixedClock(at),
        progress or (lambda _: None),
        worker=worker,
        batch_size=batch_size,
    )


@pytest.mark.parametrize(
    ("content", "fmt", "message", "field"),
    [
        (csv_file(row("S-1", "x", "1.00")), "xml", "the format must be csv or jsonl", ("format",)),
        (
            b"reference,member\nS-1,x\n",
            "csv",
            "line 1: the header lacks the columns amount, currency, time, channel; it needs"
            " reference,member,amount,currency,time,channel (any order, extra columns ignored)",
            ("file",),
        ),
        (csv_file(), "csv", "the file has no data lines", ("file",)),
    ],
)
async def test_an_unreadable_upload_says_why(
    content: bytes, fmt: str, message: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)

    error = await raised(queue(db, merchant.id, content, fmt))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables.settlement_imports.rows == {}


async def test_an_upload_needs_a_merchant_that_exists() -> None:
    db = FakeDatabase()
    content = csv_file(row("S-1", "x", "1.00"))

    no_merchant = await raised(
        queue_settlement_import(
            content, "csv", actor=Actor(Role.MERCHANT, "pos-?"), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )
    gone = await raised(queue(db, 404, content))

    assert [(e.code, e.message) for e in (no_merchant, gone)] == [
        (ErrorCode.NOT_FOUND, "the token names no merchant"),
        (ErrorCode.NOT_FOUND, "the merchant does not exist"),
    ]
    assert db.tables.settlement_imports.rows == {}


async def test_an_upload_is_stored_queued_in_its_format() -> None:
    db = FakeDatabase()
    _, merchant_id, ref = await given_shop(db)
    lines = [
        {"reference": f"S-{i}", "member": ref, "amount": "1.00", "currency": "CNY", "time": WHEN}
        for i in range(3)
    ]
    content = "\n".join(json.dumps(line) for line in lines).encode()

    import_id = await queue(db, merchant_id, content, "jsonl")

    stored = db.tables.settlement_imports.rows[import_id]
    assert (stored.merchant_id, stored.format, stored.content, stored.total_lines, stored.created_at) == (
        merchant_id,
        "jsonl",
        content,
        3,
        NOW,
    )
    assert stored.status is ImportStatus.QUEUED
    assert await work(db) == ImportsRun(1, 3)
    assert db.tables.settlement_imports.rows[import_id].posted == 3


async def test_each_batch_renews_the_lease_and_the_finish_is_stamped() -> None:
    db = FakeDatabase()
    _, merchant_id, ref = await given_shop(db)
    import_id = await queue(db, merchant_id, csv_file(*(row(f"S-{i}", ref, "1.00") for i in range(3))))
    later = NOW + timedelta(minutes=5)
    leases: list[datetime | None] = []

    await work(
        db, later, progress=lambda _: leases.append(db.tables.settlement_imports.rows[import_id].lease_until)
    )

    assert leases == [later + LEASE, later + LEASE]
    stored = db.tables.settlement_imports.rows[import_id]
    assert (stored.status, stored.finished_at, stored.failure, stored.lease_until) == (
        ImportStatus.DONE,
        later,
        None,
        None,
    )


def failing_after(db: FakeDatabase, uows: int) -> Callable[[], FakeUnitOfWork]:
    """A worker whose database goes away after this many units of work."""
    made = 0

    def factory() -> FakeUnitOfWork:
        nonlocal made
        made += 1
        if made > uows:
            raise Unavailable("the database went away")
        return FakeUnitOfWork(db)

    return factory


async def test_a_dead_workers_import_is_taken_over_once_its_lease_lapses_and_goes_on_after_the_cursor() -> (
    None
):
    db = FakeDatabase()
    member_id, merchant_id, ref = await given_shop(db)
    import_id = await queue(db, merchant_id, csv_file(*(row(f"S-{i}", ref, "1.00") for i in range(5))))
    # claim, then one batch: the database goes away before the second
    with pytest.raises(Unavailable):
        await work(db, factory=failing_after(db, 2))
    held = db.tables.settlement_imports.rows[import_id]
    assert (held.status, held.worker, held.lease_until, held.cursor, held.lines_done) == (
        ImportStatus.RUNNING,
        "w",
        NOW + LEASE,
        3,
        2,
    )

    too_soon = await work(db, NOW + LEASE, worker="w2")
    taken = await work(db, NOW + LEASE + timedelta(microseconds=1), worker="w2")

    assert too_soon == ImportsRun(0, 0)
    assert taken == ImportsRun(1, 3)
    stored = db.tables.settlement_imports.rows[import_id]
    assert (stored.status, stored.lines_done, stored.posted, stored.duplicates, stored.points) == (
        ImportStatus.DONE,
        5,
        5,
        0,
        5,
    )
    assert balance(db, member_id).available == 5


async def test_a_worker_dying_before_its_first_batch_holds_the_import_for_the_lease() -> None:
    db = FakeDatabase()
    _, merchant_id, ref = await given_shop(db)
    import_id = await queue(db, merchant_id, csv_file(row("S-1", ref, "1.00")))

    with pytest.raises(Unavailable):
        await work(db, factory=failing_after(db, 1))

    assert db.tables.settlement_imports.rows[import_id].lease_until == NOW + LEASE
    assert await work(db, NOW + LEASE, worker="w2") == ImportsRun(0, 0)
    assert await work(db, NOW + LEASE + timedelta(seconds=1), worker="w2") == ImportsRun(1, 1)


async def test_bad_lines_count_toward_batches_and_are_kept_in_line_order() -> None:
    db = FakeDatabase()
    member_id, merchant_id, ref = await given_shop(db)
    content = csv_file(
        row("S-1", "nobody", "1.00"),  # line 2: read, refused by posting
        row("S-2", ref, "abc"),  # line 3: cannot be read
        row("S-3", ref, "2.00"),
        row("S-4", ref, "x"),  # line 5, alone in the last batch
    )
    import_id = await queue(db, merchant_id, content)
    seen: list[int] = []

    run = await work(db, progress=seen.append)

    assert (run, seen) == (ImportsRun(1, 4), [2, 4])
    stored = db.tables.settlement_imports.rows[import_id]
    assert (stored.lines_done, stored.cursor, stored.posted, stored.points) == (4, 5, 1, 2)
    assert [(bad.line_no, bad.code) for bad in stored.errors] == [
        (2, ErrorCode.NOT_FOUND),
        (3, ErrorCode.VALIDATION),
        (5, ErrorCode.VALIDATION),
    ]
    assert balance(db, member_id).available == 2


async def test_one_run_posts_every_queued_import_and_counts_their_lines() -> None:
    db = FakeDatabase()
    _, merchant_id, ref = await given_shop(db)
    first = await queue(db, merchant_id, csv_file(row("S-1", ref, "1.00"), row("S-2", ref, "1.00")))
    second = await queue(db, merchant_id, csv_file(*(row(f"T-{i}", ref, "1.00") for i in range(3))))
    seen: list[int] = []

    run = await work(db, progress=seen.append)

    assert (run, seen) == (ImportsRun(2, 5), [2, 4, 5])
    assert [db.tables.settlement_imports.rows[i].status for i in (first, second)] == [ImportStatus.DONE] * 2


async def test_a_file_whose_merchant_is_gone_fails_with_the_reason() -> None:
    db = FakeDatabase()
    _, merchant_id, ref = await given_shop(db)
    import_id = await queue(db, merchant_id, csv_file(row("S-1", ref, "1.00")))
    del db.tables.merchants[merchant_id]

    run = await work(db)

    stored = db.tables.settlement_imports.rows[import_id]
    assert run.imports == 1
    assert (stored.status, stored.finished_at, stored.failure) == (
        ImportStatus.FAILED,
        NOW,
        "the merchant does not exist",
    )
