"""transferPoints over the fakes: both sides in one entry, the receiver's lots keep the dates of the
points given, within the programme's limit per calendar month (UTC), with a clock the test moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import TransferPoints
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.lots import LotDraw
from domain.members import Balance, MemberStatus
from domain.movements import Transfer
from domain.results import TransferResult
from domain.risk import RuleKind
from domain.services.transfers import transfer_points
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import (
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    lots_of,
    member_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
SOON = datetime(2024, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 9, 30, tzinfo=UTC)
NEXT_MONTH = datetime(2024, 4, 1, tzinfo=UTC)  # the first instant of April, UTC


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def give(
    db: FakeDatabase,
    clock: FixedClock,
    sender_id: int,
    points: int,
    key: str,
    *,
    to_code: str | None = None,
    to_ref: str | None = None,
) -> TransferResult:
    return await transfer_points(
        TransferPoints(points, key, to_referral_code=to_code, to_external_ref=to_ref),
        actor=member_actor(sender_id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )


async def test_points_given_leave_the_sender_and_reach_the_receiver_with_their_expiry_dates(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    later = await given_lot(db, sender.id, 100, LATER)
    soon = await given_lot(db, sender.id, 100, SOON)
    uow = FakeUnitOfWork(db)

    # the code typed in lower case, with spaces around it
    result = await transfer_points(
        TransferPoints(150, "t-1", to_referral_code=f" {receiver.referral_code.lower()} "),
        actor=member_actor(sender.id),
        uow=uow,
        clock=clock,
    )

    assert result == TransferResult(result.transfer_id, sender.id, receiver.id, 150)
    assert db.tables.transfers == {
        result.transfer_id: Transfer(result.transfer_id, sender.id, receiver.id, 150, NOW)
    }
    assert balance(db, sender.id) == Balance(sender.id, 50, 0, 0, 200, 0)
    assert balance(db, receiver.id) == Balance(receiver.id, 150, 0, 0, 0, 0)  # given, not earned
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.TRANSFER]
    assert (posted.entry.member_id, posted.entry.origin_type, posted.entry.origin_id) == (
        sender.id,
        OriginType.TRANSFER,
        result.transfer_id,
    )
    assert posted.entry.postings == (
        Posting(Account.available(sender.id), -150),
        Posting(Account.available(receiver.id), 150),
    )
    assert (
        posted.entry.description
        == f"Transfer from member {sender.referral_code} to member {receiver.referral_code}"
    )
    assert posted.at == NOW
    assert db.tables.lot_draws[-2:] == [(posted.id, LotDraw(soon, 100)), (posted.id, LotDraw(later, 50))]
    assert db.tables.lot_draws_at[posted.id] == NOW
    assert [
        (lot.points, lot.remaining, lot.earned_at, lot.expires_at) for lot in lots_of(db, receiver.id)
    ] == [
        (100, 100, NOW, SOON),
        (50, 50, NOW, LATER),
    ]
    assert uow.commits == 1


async def test_the_receiver_may_be_named_by_its_external_ref(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 10, LATER)

    result = await give(db, clock, sender.id, 10, "t-1", to_ref=" CRM-2 ")

    assert result.to_member_id == receiver.id
    assert balance(db, receiver.id).available == 10


async def test_a_retry_answers_the_first_transfer_and_gives_once(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, LATER)
    first = await give(db, clock, sender.id, 60, "t-1", to_ref="CRM-2")
    before = snapshot(db)

    assert await give(db, clock, sender.id, 60, "t-1", to_ref="CRM-2") == first
    assert db.tables == before
    assert balance(db, receiver.id).available == 60


# --- the monthly limit ------------------------------------------------------------------------------


async def test_the_monthly_limit_can_be_reached_exactly_and_not_passed_by_one_point(
    clock: FixedClock,
) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, transfer_limit_per_month=1_000))
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    await given_member(db, "CRM-3")
    await given_lot(db, sender.id, 5_000, LATER)
    await give(db, clock, sender.id, 600, "t-1", to_ref="CRM-2")

    over = await raised(give(db, clock, sender.id, 401, "t-2", to_ref="CRM-3"))  # to anyone: one limit
    assert (over.code, over.field, over.message) == (
        ErrorCode.LIMIT_REACHED,
        ("points",),
        "400 points can still be given this month",
    )
    await give(db, clock, sender.id, 400, "t-3", to_ref="CRM-3")
    before = snapshot(db)
    none_left = await raised(give(db, clock, sender.id, 1, "t-4", to_ref="CRM-2"))

    assert (none_left.code, none_left.message) == (
        ErrorCode.LIMIT_REACHED,
        "0 points can still be given this month",
    )
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, sender.id).available == 4_000


async def test_the_limit_starts_again_at_the_first_instant_of_the_next_month_in_utc(
    clock: FixedClock,
) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, transfer_limit_per_month=1_000))
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 5_000, LATER)
    clock.at = datetime(2024, 3, 1, tzinfo=UTC)  # the first instant of March counts in March
    await give(db, clock, sender.id, 1_000, "t-1", to_ref="CRM-2")

    clock.at = NEXT_MONTH - timedelta(microseconds=1)
    still_march = await raised(give(db, clock, sender.id, 1, "t-2", to_ref="CRM-2"))
    clock.at = NEXT_MONTH
    april = await give(db, clock, sender.id, 1_000, "t-3", to_ref="CRM-2")

    assert still_march.code is ErrorCode.LIMIT_REACHED
    assert april.points == 1_000
    assert balance(db, sender.id).available == 3_000


async def test_a_refused_transfer_does_not_count_towards_the_limit(clock: FixedClock) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, transfer_limit_per_month=100))
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 50, LATER)

    poor = await raised(give(db, clock, sender.id, 80, "t-1", to_ref="CRM-2"))
    assert (poor.code, poor.field) == (ErrorCode.INSUFFICIENT_POINTS, ("points",))
    assert db.tables.transfers == {}
    await given_lot(db, sender.id, 50, LATER)

    assert (await give(db, clock, sender.id, 100, "t-2", to_ref="CRM-2")).points == 100


# --- refusals ---------------------------------------------------------------------------------------


async def test_more_than_the_sender_has_is_insufficient_points_and_changes_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, LATER)
    before = snapshot(db)

    refused = await raised(give(db, clock, sender.id, 101, "t-1", to_ref="CRM-2"))

    assert refused.code is ErrorCode.INSUFFICIENT_POINTS
    assert_unchanged_but_for_idempotency(db, before)
    assert (
        await raised(give(db, clock, sender.id, 101, "t-1", to_ref="CRM-2"))
    ).code is refused.code  # replayed


async def test_expired_points_cannot_be_given_they_expire_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, NOW)  # expired at NOW, the first instant it is
    await given_lot(db, sender.id, 40, LATER)

    refused = await raised(give(db, clock, sender.id, 41, "t-1", to_ref="CRM-2"))
    assert refused.code is ErrorCode.INSUFFICIENT_POINTS

    await give(db, clock, sender.id, 40, "t-2", to_ref="CRM-2")
    [expired] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.EXPIRE]
    assert expired.entry.postings[0] == Posting(Account.available(sender.id), -100)
    assert balance(db, sender.id) == Balance(sender.id, 0, 0, 0, 140, 0)
    assert [(lot.points, lot.expires_at) for lot in lots_of(db, receiver.id)] == [(40, LATER)]


NAME_ONE = "name the receiver by toReferralCode or by toExternalRef"


@pytest.mark.parametrize(
    ("code", "ref", "field", "error", "message"),
    [
        (None, None, ("toReferralCode",), ErrorCode.VALIDATION, NAME_ONE),
        ("ABC", "CRM-2", ("toReferralCode",), ErrorCode.VALIDATION, NAME_ONE),
        ("NOSUCH", None, ("toReferralCode",), ErrorCode.NOT_FOUND, "no such member"),
        (None, "CRM-404", ("toExternalRef",), ErrorCode.NOT_FOUND, "no such member"),
        (None, "", ("toExternalRef",), ErrorCode.VALIDATION, "must not be blank"),
        (None, "CRM-1", ("toExternalRef",), ErrorCode.VALIDATION, "points cannot be given to oneself"),
        (
            None,
            "CRM-3",
            ("toExternalRef",),
            ErrorCode.MEMBER_LOCKED,
            "the receiving member cannot take points",
        ),
    ],
)
async def test_a_receiver_that_cannot_take_the_points_is_refused_and_nothing_moves(
    clock: FixedClock,
    code: str | None,
    ref: str | None,
    field: tuple[str, ...],
    error: ErrorCode,
    message: str,
) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    await given_member(db, "CRM-3", MemberStatus.LOCKED)
    await given_lot(db, sender.id, 100, LATER)
    before = snapshot(db)

    refused = await raised(give(db, clock, sender.id, 10, "t-1", to_code=code, to_ref=ref))

    assert (refused.code, refused.field, refused.message) == (error, field, message)
    assert_unchanged_but_for_idempotency(db, before)


@pytest.mark.parametrize("points", [0, -1])
async def test_nothing_or_less_is_validation(clock: FixedClock, points: int) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")

    refused = await raised(give(db, clock, sender.id, points, "t-1", to_ref="CRM-2"))

    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, ("points",))
    assert db.tables.idempotency == {}


async def test_a_locked_sender_cannot_give(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1", MemberStatus.LOCKED)
    await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, LATER)

    refused = await raised(give(db, clock, sender.id, 10, "t-1", to_ref="CRM-2"))

    assert (refused.code, refused.field) == (ErrorCode.MEMBER_LOCKED, ("memberId",))
    assert balance(db, sender.id).available == 100


@pytest.mark.parametrize("actor", [Actor(Role.ADMIN, "admin"), Actor(Role.MEMBER, "member without id")])
async def test_only_a_member_gives_its_own_points(clock: FixedClock, actor: Actor) -> None:
    db = FakeDatabase()
    await given_member(db, "CRM-2")

    refused = await raised(
        transfer_points(
            TransferPoints(10, "t-1", to_external_ref="CRM-2"),
            actor=actor,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    if actor.role is Role.ADMIN:
        assert refused.code is ErrorCode.FORBIDDEN
    else:
        assert (refused.code, refused.message) == (ErrorCode.NOT_FOUND, "the token names no member")


async def test_a_receiver_who_owes_points_repays_the_debt_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, LATER)
    db.tables.balances[receiver.id] = replace(db.tables.balances[receiver.id], debt=30)

    await give(db, clock, sender.id, 100, "t-1", to_ref="CRM-2")

    assert balance(db, receiver.id) == Balance(receiver.id, 70, 0, 0, 0, 0, 0)
    assert [(lot.points, lot.expires_at) for lot in lots_of(db, receiver.id)] == [(70, LATER)]
    assert balance(db, sender.id).available == 0
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.TRANSFER]
    assert posted.entry.postings == (
        Posting(Account.available(sender.id), -100),
        Posting(Account.available(receiver.id), 70),
        Posting(Account(AccountKind.MEMBER_DEBT, receiver.id), 30),
    )


@pytest.mark.parametrize(
    ("code", "ref", "error", "field"),
    [
        ("A" * 16, None, ErrorCode.NOT_FOUND, ("toReferralCode",)),
        ("A" * 17, None, ErrorCode.VALIDATION, ("toReferralCode",)),
        (None, "R" * 64, ErrorCode.NOT_FOUND, ("toExternalRef",)),
        (None, "R" * 65, ErrorCode.VALIDATION, ("toExternalRef",)),
    ],
)
async def test_a_receiver_is_named_in_at_most_16_or_64_characters(
    clock: FixedClock, code: str | None, ref: str | None, error: ErrorCode, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    await given_lot(db, sender.id, 100, LATER)

    refused = await raised(give(db, clock, sender.id, 10, "t-1", to_code=code, to_ref=ref))

    assert (refused.code, refused.field) == (error, field)


async def test_points_from_too_many_members_in_a_day_are_refused_for_the_receiver_counting_each_once(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    sender = await given_member(db, "CRM-1")
    receiver = await given_member(db, "CRM-2")
    await given_lot(db, sender.id, 100, LATER)
    [fan_in] = [r for r in db.tables.risk.rules.values() if r.kind is RuleKind.TRANSFER_FAN_IN]
    db.tables.risk.rules[fan_in.id] = replace(fan_in, limit=2)
    # the sender gave earlier today: it is one of the two, not a third
    db.tables.risk.transfers = [(receiver.id, sender.id, NOW), (receiver.id, 900, NOW)]

    allowed = await give(db, clock, sender.id, 10, "t-1", to_ref="CRM-2")
    assert allowed.points == 10

    db.tables.risk.transfers.append((receiver.id, 901, NOW))
    before = snapshot(db)
    refused = await raised(give(db, clock, sender.id, 10, "t-2", to_ref="CRM-2"))

    assert (refused.code, refused.message) == (
        ErrorCode.RISK_REVIEW,
        "refused by risk control: points from 3 members today, over 2",
    )
    event = db.tables.audit.pop()
    assert (event.action, event.member_id) == ("security.risk_refused", receiver.id)
    assert_unchanged_but_for_idempotency(db, before)
