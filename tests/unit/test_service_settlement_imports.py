"""Settlement files through the API, over the fakes: what the upload refuses (storing nothing), and a
worker posting a stored file a batch at a time, its progress moving with each batch's commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.services.settlement_imports import ImportsRun, queue_settlement_import, run_settlement_imports
from domain.settlement_imports import ImportStatus
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork, linked
from tests.unit.test_services import balance, given_member, given_merchant, merchant_actor, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HEADER = "reference,member,amount,currency,time,channel"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def csv_file(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def row(reference: str, member: str, amount: str) -> str:
    return f"{reference},{member},{amount},CNY,{(NOW - timedelta(days=1)).isoformat()},"


@pytest.mark.parametrize(
    ("content", "fmt", "field", "actor"),
    [
        (csv_file(row("S-1", "x", "1.00")), "xml", "format", None),
        (b"reference,member\nS-1,x\n", "csv", "file", None),
        (csv_file(), "csv", "file", None),
        (b"\n\n", "jsonl", "file", None),
        (csv_file(row("S-1", "x", "1.00")), "csv", None, Actor(Role.ADMIN, "admin")),
    ],
)
async def test_an_upload_the_worker_could_not_read_is_refused_and_stores_nothing(
    clock: FixedClock, content: bytes, fmt: str, field: str | None, actor: Actor | None
) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)

    error = await raised(
        queue_settlement_import(
            content, fmt, actor=actor or merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=clock
        )
    )

    assert error.code is (ErrorCode.FORBIDDEN if actor else ErrorCode.VALIDATION)
    assert error.field == ((field,) if field else None)
    assert db.tables.settlement_imports.rows == {}


async def test_a_worker_posts_a_stored_file_a_batch_at_a_time(clock: FixedClock) -> None:
    db = FakeDatabase()
    li = await given_member(db, "CRM-1")
    merchant = await given_merchant(db)
    ref = linked(db, merchant.id, li.id).ref
    assert ref is not None
    content = csv_file(row("S-1", ref, "10.00"), row("S-2", "nobody", "1.00"), row("S-3", ref, "5.00"))
    import_id = await queue_settlement_import(
        content, "csv", actor=merchant_actor(merchant.id), uow=FakeUnitOfWork(db), clock=clock
    )
    seen: list[int] = []

    run = await run_settlement_imports(
        lambda: FakeUnitOfWork(db), clock, seen.append, worker="w", batch_size=2
    )

    assert run == ImportsRun(imports=1, lines=3)
    assert seen == [2, 3]
    stored = db.tables.settlement_imports.rows[import_id]
    assert (stored.status, stored.total_lines, stored.lines_done, stored.cursor) == (
        ImportStatus.DONE,
        3,
        3,
        4,
    )
    assert (stored.posted, stored.points) == (2, 15)
    assert [(bad.line_no, bad.code) for bad in stored.errors] == [(3, ErrorCode.NOT_FOUND)]
    assert balance(db, li.id).available == 15
