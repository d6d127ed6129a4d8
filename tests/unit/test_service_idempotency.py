"""run_once over the fakes: what is stored under a key, what a retry gets back, what is kept of a
result, and that work rolled back for a replay leaves nothing behind."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.errors import DomainError, ErrorCode, NotFound, Validation
from domain.results import ANSWER_ONLY
from domain.risk import RiskRefused
from domain.services.idempotency import request_hash, run_once, stored_fields
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.database import IdempotencyRow

NOW = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)
CALLER = Actor(Role.MERCHANT, "pos-7", merchant_id=7, request_id="req-7")
SCOPE = "merchant:7"


@dataclass(frozen=True, slots=True)
class Give:
    points: int
    idempotency_key: str
    note: Decimal = Decimal("1.50")


@dataclass(frozen=True, slots=True)
class Given:
    points: int
    total: int
    answered_at: str | None = field(default=None, metadata={ANSWER_ONLY: True})


def marker(points: int) -> AuditEvent:
    return AuditEvent("pos-7", "work", "Thing", points, None, None, "req-7", NOW)


async def give(
    db: FakeDatabase, cmd: Give, *, fail: DomainError | None = None, uow: FakeUnitOfWork | None = None
) -> Given:
    uow = uow or FakeUnitOfWork(db)

    async def work() -> Given:
        await uow.audit.record(marker(cmd.points))  # what the work changes
        if fail is not None:
            raise fail
        return Given(cmd.points, cmd.points * 2, "now")

    return await run_once(cmd, actor=CALLER, uow=uow, clock=FixedClock(NOW), result_type=Given, work=work)


def test_the_request_hash_covers_the_command_type_and_fields_but_not_the_key() -> None:
    canonical = '{"note": "1.50", "points": 5, "type": "Give"}'

    assert request_hash(Give(5, "k-1")) == hashlib.sha256(canonical.encode()).hexdigest()
    assert request_hash(Give(5, "k-1")) == request_hash(Give(5, "k-2"))
    assert request_hash(Give(5, "k-1")) != request_hash(Give(6, "k-1"))


async def test_a_first_request_commits_its_work_and_stores_its_answer_without_answer_only_fields() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    result = await give(db, Give(5, " k-1 "), uow=uow)

    assert result == Given(5, 10, "now")  # the first answer keeps everything
    assert db.tables.idempotency == {
        (SCOPE, "k-1"): IdempotencyRow(
            request_hash(Give(5, "k-1")), {"result": {"points": 5, "total": 10}}, NOW
        )
    }
    assert db.tables.audit == [marker(5)]
    assert uow.commits == 1


async def test_a_retry_replays_the_stored_answer_and_rolls_its_own_work_back() -> None:
    db = FakeDatabase()
    await give(db, Give(5, "k-1"))
    uow = FakeUnitOfWork(db)

    replayed = await give(db, Give(5, "k-1"), uow=uow)

    assert replayed == Given(5, 10, None)  # answer-only fields are not replayed
    assert db.tables.audit == [marker(5)]
    assert uow.commits == 0


async def test_the_same_key_with_other_input_is_key_reused() -> None:
    db = FakeDatabase()
    await give(db, Give(5, "k-1"))
    before = dict(db.tables.idempotency)

    with pytest.raises(DomainError) as reused:
        await give(db, Give(6, "k-1"))

    assert (reused.value.code, reused.value.message, reused.value.field) == (
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "this idempotency key was already used with a different request",
        ("idempotencyKey",),
    )
    assert db.tables.idempotency == before
    assert db.tables.audit == [marker(5)]


async def test_a_business_rejection_is_stored_in_a_transaction_of_its_own_and_replayed() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    with pytest.raises(NotFound) as first:
        await give(db, Give(5, "k-1"), fail=NotFound("no such thing", ("thingId",)), uow=uow)
    with pytest.raises(DomainError) as replayed:
        await give(db, Give(5, "k-1"))

    assert first.value.message == "no such thing"
    assert db.tables.idempotency == {
        (SCOPE, "k-1"): IdempotencyRow(
            request_hash(Give(5, "k-1")),
            {"error": {"code": "NOT_FOUND", "message": "no such thing", "field": ["thingId"]}},
            NOW,
        )
    }
    assert db.tables.audit == []  # the rejected work was rolled back
    assert uow.commits == 1
    assert (replayed.value.code, replayed.value.message, replayed.value.field) == (
        ErrorCode.NOT_FOUND,
        "no such thing",
        ("thingId",),
    )


async def test_a_rejection_is_not_stored_over_an_answer_recorded_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)
    record = uow.idempotency.record

    async def after_a_concurrent_first_request(*args: object, **kwargs: object) -> object:
        # the other request with this key committed its answer while this one was rolled back
        db.tables.idempotency[(SCOPE, "k-1")] = IdempotencyRow(
            request_hash(Give(5, "k-1")), {"result": {"points": 5, "total": 10}}, NOW
        )
        return await record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(uow.idempotency, "record", after_a_concurrent_first_request)
    result = await give(db, Give(5, "k-1"), fail=NotFound("no such thing"), uow=uow)

    assert result == Given(5, 10)
    assert uow.commits == 0
    assert db.tables.audit == []


async def test_a_risk_refusal_is_audited_with_its_reason_when_first_stored() -> None:
    db = FakeDatabase()
    refused = RiskRefused("refused by risk control: too much", ("amount",))
    refused.member_id = 3

    with pytest.raises(RiskRefused):
        await give(db, Give(5, "k-1"), fail=refused)
    with pytest.raises(DomainError):
        await give(db, Give(5, "k-1"), fail=refused)  # a replay audits nothing more

    assert db.tables.audit == [
        AuditEvent(
            "pos-7",
            "security.risk_refused",
            "Member",
            3,
            None,
            {"reason": "refused by risk control: too much"},
            "req-7",
            NOW,
            member_id=3,
        )
    ]


async def test_bad_input_is_not_stored_so_a_corrected_retry_with_the_key_succeeds() -> None:
    db = FakeDatabase()

    with pytest.raises(Validation):
        await give(db, Give(5, "k-1"), fail=Validation("must be greater than zero", ("points",)))

    assert db.tables.idempotency == {}
    assert await give(db, Give(5, "k-1")) == Given(5, 10, "now")


async def test_bad_input_under_a_key_already_answered_replays_that_answer() -> None:
    db = FakeDatabase()
    await give(db, Give(5, "k-1"))

    replayed = await give(db, Give(5, "k-1"), fail=Validation("no longer valid"))
    with pytest.raises(DomainError) as other:
        await give(db, Give(6, "k-1"), fail=Validation("no longer valid"))

    assert replayed == Given(5, 10)
    assert other.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED


@pytest.mark.parametrize(
    ("key", "message"), [("  ", "must not be blank"), ("k" * 101, "must be at most 100 characters")]
)
async def test_a_blank_or_overlong_key_is_validation_and_no_work_is_done(key: str, message: str) -> None:
    db = FakeDatabase()

    with pytest.raises(Validation) as bad:
        await give(db, Give(5, key))

    assert (bad.value.message, bad.value.field) == (message, ("idempotencyKey",))
    assert db.tables == FakeDatabase().tables
    assert (await give(db, Give(5, "k" * 100))).points == 5


def test_only_a_dataclass_instance_is_a_result() -> None:
    assert stored_fields(Given(1, 2, "x")) == {"points": 1, "total": 2}
    for not_a_result in ({"points": 1}, Given):
        with pytest.raises(TypeError, match=r"^a use case's result is a dataclass instance$"):
            stored_fields(not_a_result)
