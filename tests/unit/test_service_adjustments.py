"""adjustPoints over the fakes, beyond the happy paths: the bounds on points and note with their
messages, expired points never taken back as live, the answer and its replay, and the entry's
description."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.clock import FixedClock
from domain.commands import AdjustPoints
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import Balance
from domain.money import MAX_INT
from domain.purchases import ReasonCode
from domain.results import AdjustmentResult
from domain.services.adjustments import adjust_points
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import ADMIN, LATER, balance, given_lot, given_member, lots_of, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


async def adjust(
    db: FakeDatabase,
    member_id: int,
    points: int,
    key: str = "a-1",
    *,
    reason: ReasonCode = ReasonCode.CORRECTION,
    note: str | None = None,
) -> AdjustmentResult:
    return await adjust_points(
        AdjustPoints(member_id, points, reason, key, note),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )


@pytest.mark.parametrize("points", [0, MAX_INT + 1, -MAX_INT - 1])
async def test_points_are_non_zero_and_within_the_32_bit_range(points: int) -> None:
    db = FakeDatabase()
    member = await given_member(db)

    error = await raised(adjust(db, member.id, points))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        f"must be a non-zero number of points between -{MAX_INT} and {MAX_INT}",
        ("points",),
    )
    assert db.tables.adjustments == {}


async def test_the_largest_debit_is_an_amount_not_a_validation_error() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    error = await raised(adjust(db, member.id, -MAX_INT))

    assert error.code is ErrorCode.INSUFFICIENT_POINTS


async def test_a_note_is_trimmed_and_at_most_500_characters() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    error = await raised(adjust(db, member.id, 5, note="n" * 501))
    result = await adjust(db, member.id, 5, note=" " + "n" * 500 + " ")

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "must be at most 500 characters",
        ("note",),
    )
    assert result.note == "n" * 500
    assert db.tables.audit[-1].after is not None
    assert db.tables.audit[-1].after["note"] == "n" * 500


async def test_the_answer_carries_the_committed_balance_and_a_replay_the_same_adjustment() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    first = await adjust(db, member.id, 40, reason=ReasonCode.SERVICE_RECOVERY, note="late parcel")
    again = await adjust(db, member.id, 40, reason=ReasonCode.SERVICE_RECOVERY, note="late parcel")

    assert first == AdjustmentResult(
        first.adjustment_id,
        member.id,
        40,
        "SERVICE_RECOVERY",
        "late parcel",
        "admin-ada",
        NOW.isoformat(),
        db.tables.members[member.id],
        Balance(member.id, 40, 0, 0, 40, 0),
    )
    assert again == AdjustmentResult(
        first.adjustment_id, member.id, 40, "SERVICE_RECOVERY", "late parcel", "admin-ada", NOW.isoformat()
    )
    assert balance(db, member.id).available == 40
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.ADJUST]
    assert posted.entry.description == "Adjustment: service recovery"


async def test_a_debit_first_expires_points_past_their_date() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, NOW)  # expires at this instant
    await given_lot(db, member.id, 30, LATER)

    error = await raised(adjust(db, member.id, -31))
    taken = await adjust(db, member.id, -30, "a-2")

    assert error.code is ErrorCode.INSUFFICIENT_POINTS
    assert taken.points == -30
    assert balance(db, member.id).available == 0
    assert [lot.remaining for lot in lots_of(db, member.id)] == [0, 0]
    [debit] = [
        i
        for i, p in db.tables.journal.items()
        if p.entry.kind is EntryKind.ADJUST and p.entry.postings[0].amount < 0
    ]
    assert db.tables.lot_draws_at[debit] == NOW


async def test_a_credit_leaves_expired_points_for_the_expiry_job() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, NOW)

    await adjust(db, member.id, 5)

    assert balance(db, member.id).available == 105
    assert db.tables.expirations == {}


async def test_an_unknown_member_is_not_found() -> None:
    db = FakeDatabase()

    error = await raised(adjust(db, 404, 5))

    assert (error.code, error.message, error.field) == (ErrorCode.NOT_FOUND, "no such member", ("memberId",))


async def test_one_point_is_a_credit_booked_as_the_adjustment_and_audited_on_the_member() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    result = await adjust(db, member.id, 1)

    assert balance(db, member.id) == Balance(member.id, 1, 0, 0, 1, 0)
    [lot] = lots_of(db, member.id)
    assert (lot.points, lot.remaining, lot.earned_at, lot.expires_at) == (
        1,
        1,
        NOW,
        DEFAULT_PROGRAMME.expiry_for(NOW),
    )
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.ADJUST]
    assert (posted.entry.member_id, posted.entry.origin_type, posted.entry.origin_id, posted.at) == (
        member.id,
        OriginType.ADJUSTMENT,
        result.adjustment_id,
        NOW,
    )
    assert posted.entry.postings == (
        Posting(Account(AccountKind.ADJUSTMENT), -1),
        Posting(Account.available(member.id), 1),
    )
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        "admin-ada",
        "adjustPoints",
        "Member",
        member.id,
        NOW,
    )


async def test_a_debit_is_booked_from_the_wallet_to_the_adjustment_account() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 10, LATER)

    result = await adjust(db, member.id, -1)

    assert balance(db, member.id).available == 9
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.ADJUST]
    assert (posted.entry.member_id, posted.entry.origin_type, posted.entry.origin_id, posted.at) == (
        member.id,
        OriginType.ADJUSTMENT,
        result.adjustment_id,
        NOW,
    )
    assert posted.entry.postings == (
        Posting(Account.available(member.id), -1),
        Posting(Account(AccountKind.ADJUSTMENT), 1),
    )
