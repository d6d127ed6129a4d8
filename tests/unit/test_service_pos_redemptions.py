"""POS redemption over the fakes: codes, holds of points or of a reward, capture and void by the
merchant that holds, each refusal's code, message and field, and that a refusal changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain import redemption_codes
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import AuthorizeRedemption, CaptureRedemption, PostPurchase, VoidRedemption
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import MemberStatus
from domain.money import Money
from domain.results import IssuedCode, RedemptionResult
from domain.rewards import LimitPeriod, Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.risk import RuleKind
from domain.services.pos_redemptions import (
    INVALID_CODE,
    authorize_redemption,
    capture_redemption,
    create_redemption_code,
    void_redemption,
)
from domain.services.purchases import post_purchase
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import (
    LATER,
    SOON,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    merchant_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=30)  # the default programme holds for 30 minutes


async def code_for(db: FakeDatabase, member_id: int, at: datetime = NOW) -> str:
    issued = await create_redemption_code(
        actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=FixedClock(at)
    )
    return issued.code


async def authorize(
    db: FakeDatabase,
    merchant_id: int,
    code: str,
    key: str = "a-1",
    at: datetime = NOW,
    *,
    points: int | None = None,
    reward_id: int | None = None,
) -> RedemptionResult:
    return await authorize_redemption(
        AuthorizeRedemption(code=code, idempotency_key=key, points=points, reward_id=reward_id),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


async def capture(
    db: FakeDatabase,
    merchant_id: int,
    redemption_id: int,
    key: str = "c-1",
    at: datetime = NOW,
    *,
    points: int | None = None,
    purchase_id: int | None = None,
) -> RedemptionResult:
    return await capture_redemption(
        CaptureRedemption(redemption_id, key, points=points, purchase_id=purchase_id),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


async def void(
    db: FakeDatabase, merchant_id: int, redemption_id: int, key: str = "v-1", at: datetime = NOW
) -> RedemptionResult:
    return await void_redemption(
        VoidRedemption(redemption_id, key),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


async def given_reward(db: FakeDatabase, cost: int = 40, stock: int | None = 1) -> Reward:
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(name="Mug", cost_points=cost, stock=stock, active=True, at=NOW)
        await seed.commit()
    return reward


def entries(db: FakeDatabase, kind: EntryKind) -> list[tuple[str, tuple[Posting, ...], datetime]]:
    return [
        (p.entry.description, p.entry.postings, p.at)
        for p in db.tables.journal.values()
        if p.entry.kind is kind
    ]


# --- codes ----------------------------------------------------------------------------------------


async def test_a_code_is_issued_to_an_active_member_for_five_minutes_and_only_its_hash_is_kept() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    uow = FakeUnitOfWork(db)

    issued = await create_redemption_code(actor=member_actor(member.id), uow=uow, clock=FixedClock(NOW))

    assert issued == IssuedCode(issued.code, NOW + timedelta(minutes=5))
    assert redemption_codes.well_formed(issued.code)
    [(stored_hash, row)] = db.tables.redemption_codes.items()
    assert stored_hash == redemption_codes.code_hash(issued.code)
    assert (row.member_id, row.expires_at, row.created_at, row.used_at) == (
        member.id,
        NOW + timedelta(minutes=5),
        NOW,
        None,
    )
    assert uow.commits == 1


async def test_a_code_drawn_twice_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    first = await code_for(db, member.id)
    draws = iter([first, first, "23456789AB"])
    monkeypatch.setattr(redemption_codes, "new_code", lambda: next(draws))

    issued = await create_redemption_code(
        actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )

    assert issued.code == "23456789AB"
    assert len(db.tables.redemption_codes) == 2


async def test_after_five_taken_codes_no_code_is_issued(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    taken = await code_for(db, member.id)
    draws = iter([taken] * 5 + ["23456789AB"])
    monkeypatch.setattr(redemption_codes, "new_code", lambda: next(draws))
    before = snapshot(db)

    with pytest.raises(RuntimeError, match=r"^could not draw an unused redemption code$"):
        await create_redemption_code(
            actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )

    assert db.tables == before


async def test_a_code_is_only_for_an_active_member_named_by_the_token() -> None:
    db = FakeDatabase()
    locked = await given_member(db, status=MemberStatus.LOCKED)

    refusals = [
        await raised(
            create_redemption_code(
                actor=member_actor(locked.id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
        await raised(
            create_redemption_code(
                actor=Actor(Role.MEMBER, "m"), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
            )
        ),
        await raised(
            create_redemption_code(actor=merchant_actor(1), uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
        ),
    ]

    assert [(e.code, e.message) for e in refusals] == [
        (ErrorCode.MEMBER_LOCKED, "member is locked"),
        (ErrorCode.FORBIDDEN, "the token names no member"),
        (ErrorCode.FORBIDDEN, "this operation needs the role member"),
    ]
    assert db.tables.redemption_codes == {}


# --- authorization --------------------------------------------------------------------------------


async def test_authorizing_points_holds_them_from_the_soonest_lots_until_the_hold_lapses() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    await given_lot(db, member.id, 100, SOON)
    code = await code_for(db, member.id)

    result = await authorize(db, merchant.id, f" {code[:5].lower()}-{code[5:]} ", points=150)

    hold = db.tables.redemptions[result.redemption_id]
    assert hold == Redemption(
        result.redemption_id,
        member.id,
        None,
        150,
        RedemptionStatus.AUTHORIZED,
        NOW,
        kind=RedemptionKind.POS,
        merchant_id=merchant.id,
        hold_expires_at=UNTIL,
    )
    assert result == RedemptionResult.of(hold, 150, 50)
    b = balance(db, member.id)
    assert (b.available, b.held, b.lifetime_redeemed) == (50, 150, 0)
    assert entries(db, EntryKind.HOLD) == [
        (
            "Held at Tea House until 14:35 UTC",
            (
                Posting(Account.available(member.id), -150),
                Posting(Account(AccountKind.MEMBER_HELD, member.id), 150),
            ),
            NOW,
        )
    ]
    assert sorted((lot.remaining, lot.expires_at) for lot in lots_of(db, member.id)) == [
        (0, SOON),
        (50, LATER),
    ]
    assert db.tables.redemption_codes[redemption_codes.code_hash(code)].used_at == NOW
    [held_entry] = [i for i, p in db.tables.journal.items() if p.entry.kind is EntryKind.HOLD]
    assert db.tables.lot_draws_at == {held_entry: NOW}


async def test_authorizing_a_reward_holds_its_cost_and_takes_it_from_stock() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, cost=40, stock=1)

    result = await authorize(db, merchant.id, await code_for(db, member.id), reward_id=reward.id)

    assert (result.points, result.available_points) == (40, 60)
    assert db.tables.redemptions[result.redemption_id].reward_id == reward.id
    assert db.tables.rewards[reward.id].stock == 0
    [(description, _, _)] = entries(db, EntryKind.HOLD)
    assert description == "Held at Tea House for Mug until 14:35 UTC"


async def test_a_reward_taken_meanwhile_is_out_of_stock_and_the_code_stays_unused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db)
    code = await code_for(db, member.id)
    before = snapshot(db)
    uow = FakeUnitOfWork(db)

    async def gone(*_: object) -> bool:
        return False

    monkeypatch.setattr(uow.rewards, "take_one", gone)
    error = await raised(
        authorize_redemption(
            AuthorizeRedemption(code, "a-1", reward_id=reward.id),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.REWARD_OUT_OF_STOCK,
        "this reward is out of stock",
        ("rewardId",),
    )
    assert_unchanged_but_for_idempotency(db, before)


@pytest.mark.parametrize(
    ("what", "message", "field"),
    [
        ({}, "give either points or rewardId", ("points",)),
        ({"points": 5, "reward_id": 1}, "give either points or rewardId", ("points",)),
        ({"points": 0}, "must be greater than zero", ("points",)),
    ],
    ids=["neither", "both", "zero"],
)
async def test_an_authorization_names_points_or_a_reward(
    what: dict[str, int], message: str, field: tuple[str, ...]
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    code = await code_for(db, member.id)
    before = snapshot(db)

    error = await raised(
        authorize(db, merchant.id, code, points=what.get("points"), reward_id=what.get("reward_id"))
    )

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables == before


@pytest.mark.parametrize(
    "code",
    ["23456789A", "23456789ABC", "0123456789", "2" * 10 + " " * 31],
    ids=["short", "long", "alphabet", "overlong-input"],
)
async def test_a_malformed_code_is_invalid_without_being_looked_up(code: str) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    before = snapshot(db)

    error = await raised(authorize(db, merchant.id, code, points=1))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, INVALID_CODE, ("code",))
    assert error.wrong_code
    assert db.tables == before


async def test_the_longest_input_holding_a_code_is_accepted() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 10, LATER)
    code = await code_for(db, member.id)

    result = await authorize(db, merchant.id, code + " " * 30, points=10)

    assert result.points == 10


async def test_an_unknown_or_used_code_is_invalid_and_a_locked_member_is_refused_on_the_code() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    used = await code_for(db, member.id)
    await authorize(db, merchant.id, used, "a-0", points=10)
    code = await code_for(db, member.id)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.members.set_status(member.id, MemberStatus.LOCKED, "fraud")
        await seed.commit()
    before = snapshot(db)

    refusals = [
        await raised(authorize(db, merchant.id, "23456789AB", "a-1", points=1)),
        await raised(authorize(db, merchant.id, used, "a-2", points=1)),
        await raised(authorize(db, merchant.id, code, "a-3", points=1)),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.VALIDATION, INVALID_CODE, ("code",)),
        (ErrorCode.VALIDATION, INVALID_CODE, ("code",)),
        (ErrorCode.MEMBER_LOCKED, "member is locked", ("code",)),
    ]
    assert_unchanged_but_for_idempotency(db, before)


async def test_an_unknown_merchant_or_a_token_without_one_cannot_authorize() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    code = await code_for(db, member.id)

    unknown = await raised(authorize(db, 404, code, points=1))
    anonymous = await raised(
        authorize_redemption(
            AuthorizeRedemption(code, "a-1", points=1),
            actor=Actor(Role.MERCHANT, "pos"),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )
    not_merchant = await raised(
        authorize_redemption(
            AuthorizeRedemption(code, "a-1", points=1),
            actor=member_actor(member.id),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (unknown.code, unknown.message, unknown.field) == (ErrorCode.NOT_FOUND, "no such merchant", None)
    assert (anonymous.code, anonymous.message) == (ErrorCode.FORBIDDEN, "the token names no merchant")
    assert (not_merchant.code, not_merchant.message) == (
        ErrorCode.FORBIDDEN,
        "this operation needs the role merchant",
    )
    assert db.tables.redemption_codes[redemption_codes.code_hash(code)].used_at is None


async def test_expired_points_are_expired_before_they_could_be_held() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, NOW)  # expires at this instant
    await given_lot(db, member.id, 30, LATER)

    error = await raised(authorize(db, merchant.id, await code_for(db, member.id), points=31))
    result = await authorize(db, merchant.id, await code_for(db, member.id), "a-2", points=30)

    assert error.code is ErrorCode.INSUFFICIENT_POINTS
    assert result.available_points == 0
    assert [lot.remaining for lot in lots_of(db, member.id)] == [0, 0]


# --- capture --------------------------------------------------------------------------------------


async def held(db: FakeDatabase) -> tuple[int, int, int]:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    await given_lot(db, member.id, 100, SOON)
    result = await authorize(db, merchant.id, await code_for(db, member.id), points=150)
    return member.id, merchant.id, result.redemption_id


async def test_capturing_the_whole_hold_spends_it_and_releases_nothing() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)
    at = NOW + timedelta(minutes=29, seconds=59)

    result = await capture(db, merchant_id, hold_id, at=at)

    captured = db.tables.redemptions[hold_id]
    assert (captured.status, captured.captured_points, captured.finalized_at, captured.purchase_id) == (
        RedemptionStatus.CAPTURED,
        150,
        at,
        None,
    )
    assert result == RedemptionResult.of(captured, 150)
    b = balance(db, member_id)
    assert (b.available, b.held, b.lifetime_redeemed) == (50, 0, 150)
    assert entries(db, EntryKind.REDEEM) == [
        (
            "Spent at Tea House",
            (
                Posting(Account(AccountKind.MEMBER_HELD, member_id), -150),
                Posting(Account(AccountKind.REDEMPTION), 150),
            ),
            at,
        )
    ]
    assert entries(db, EntryKind.RELEASE) == []


async def test_a_partial_capture_releases_the_rest_with_its_description() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)

    result = await capture(db, merchant_id, hold_id, points=149)

    assert result.points == 149
    [(description, postings, _)] = entries(db, EntryKind.RELEASE)
    assert description == "Released: the rest of the hold at Tea House"
    assert postings == (
        Posting(Account(AccountKind.MEMBER_HELD, member_id), -1),
        Posting(Account.available(member_id), 1),
    )
    assert balance(db, member_id).available == 51


async def test_a_capture_paying_for_a_purchase_of_the_member_here_records_it() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)
    bought = await post_purchase(
        PostPurchase(linked(db, merchant_id, member_id), Money(1_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    result = await capture(db, merchant_id, hold_id, purchase_id=bought.purchase_id)

    assert db.tables.redemptions[hold_id].purchase_id == bought.purchase_id
    snapshot_ = result.snapshot()
    assert snapshot_ is not None
    assert snapshot_.purchase_id == bought.purchase_id


async def test_a_capture_may_not_name_another_members_purchase_or_a_refunded_one() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)
    other = await given_member(db, "CRM-9")
    theirs = await post_purchase(
        PostPurchase(linked(db, merchant_id, other.id), Money(1_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    mine = await post_purchase(
        PostPurchase(linked(db, merchant_id, member_id), Money(1_000, "CNY"), "p-2"),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    purchase = db.tables.purchases[mine.purchase_id]
    db.tables.purchases[mine.purchase_id] = replace(purchase, refunded_minor=1)  # a refund began
    before = snapshot(db)

    refusals = [
        await raised(capture(db, merchant_id, hold_id, "c-1", purchase_id=theirs.purchase_id)),
        await raised(capture(db, merchant_id, hold_id, "c-2", purchase_id=404)),
        await raised(capture(db, merchant_id, hold_id, "c-3", purchase_id=mine.purchase_id)),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.NOT_FOUND, "no such purchase of this member at this merchant", ("purchaseId",)),
        (ErrorCode.NOT_FOUND, "no such purchase of this member at this merchant", ("purchaseId",)),
        (ErrorCode.VALIDATION, "this purchase has been refunded; capture without it", ("purchaseId",)),
    ]
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_capture_beyond_the_hold_or_of_part_of_a_reward_is_validation() -> None:
    db = FakeDatabase()
    _, merchant_id, hold_id = await held(db)
    member = await given_member(db, "CRM-2")
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, cost=40)
    reward_hold = await authorize(db, merchant_id, await code_for(db, member.id), "a-2", reward_id=reward.id)
    before = snapshot(db)

    refusals = [
        await raised(capture(db, merchant_id, hold_id, "c-1", points=151)),
        await raised(capture(db, merchant_id, reward_hold.redemption_id, "c-2", points=39)),
        await raised(capture(db, merchant_id, hold_id, "c-3", points=0)),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.VALIDATION, "at most the 150 points held can be captured", ("points",)),
        (ErrorCode.VALIDATION, "a reward's hold is captured whole", ("points",)),
        (ErrorCode.VALIDATION, "must be greater than zero", ("points",)),
    ]
    assert_unchanged_but_for_idempotency(db, before)
    assert (await capture(db, merchant_id, reward_hold.redemption_id, "c-4", points=40)).points == 40


async def test_a_lapsed_hold_cannot_be_captured_but_may_be_voided() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)
    before = snapshot(db)

    error = await raised(capture(db, merchant_id, hold_id, at=UNTIL))

    assert (error.code, error.message, error.field) == (
        ErrorCode.ALREADY_FINALIZED,
        "the hold expired; authorize again",
        ("redemptionId",),
    )
    assert_unchanged_but_for_idempotency(db, before)
    assert (await void(db, merchant_id, hold_id, at=UNTIL)).points == 150
    assert balance(db, member_id).available == 200


async def test_only_the_merchant_that_holds_sees_the_hold() -> None:
    db = FakeDatabase()
    _, merchant_id, hold_id = await held(db)
    other = await given_merchant(db, "Noodle Bar")
    before = snapshot(db)

    refusals = [
        await raised(capture(db, other.id, hold_id)),
        await raised(void(db, other.id, hold_id)),
        await raised(capture(db, merchant_id, 404, "c-2")),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.NOT_FOUND, "no such redemption", ("redemptionId",))
    ] * 3
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_finished_hold_says_what_it_already_is() -> None:
    db = FakeDatabase()
    _, merchant_id, hold_id = await held(db)
    await void(db, merchant_id, hold_id)
    before = snapshot(db)

    refusals = [
        await raised(capture(db, merchant_id, hold_id, "c-9")),
        await raised(void(db, merchant_id, hold_id, "v-9")),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.ALREADY_FINALIZED, "this redemption is already voided", ("redemptionId",))
    ] * 2
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_hold_resolved_meanwhile_is_a_lost_race_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    _, merchant_id, hold_id = await held(db)
    before = snapshot(db)

    async def lost(*_: object, **__: object) -> bool:
        return False

    capturing, voiding = FakeUnitOfWork(db), FakeUnitOfWork(db)
    monkeypatch.setattr(capturing.redemptions, "finish", lost)
    monkeypatch.setattr(voiding.redemptions, "finish", lost)
    merchant = merchant_actor(merchant_id)
    refusals = [
        await raised(
            capture_redemption(
                CaptureRedemption(hold_id, "c-1"), actor=merchant, uow=capturing, clock=FixedClock(NOW)
            )
        ),
        await raised(
            void_redemption(
                VoidRedemption(hold_id, "v-1"), actor=merchant, uow=voiding, clock=FixedClock(NOW)
            )
        ),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.ALREADY_FINALIZED, "this redemption was resolved meanwhile", ("redemptionId",))
    ] * 2
    assert_unchanged_but_for_idempotency(db, before)


# --- void -----------------------------------------------------------------------------------------


async def test_voiding_gives_every_held_point_back_with_its_dates_and_a_reward_back_to_stock() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 30, SOON)
    await given_lot(db, member.id, 30, LATER)
    reward = await given_reward(db, cost=40, stock=1)
    hold = await authorize(db, merchant.id, await code_for(db, member.id), reward_id=reward.id)
    at = NOW + timedelta(minutes=3)

    result = await void(db, merchant.id, hold.redemption_id, at=at)

    voided = db.tables.redemptions[hold.redemption_id]
    assert (voided.status, voided.finalized_at, voided.captured_points) == (RedemptionStatus.VOIDED, at, None)
    assert result == RedemptionResult.of(voided, 40)
    assert db.tables.rewards[reward.id].stock == 1
    b = balance(db, member.id)
    assert (b.available, b.held, b.lifetime_redeemed) == (60, 0, 0)
    [(description, _, when)] = entries(db, EntryKind.RELEASE)
    assert (description, when) == ("Released: the hold at Tea House was voided", at)
    assert sorted((lot.remaining, lot.expires_at) for lot in lots_of(db, member.id) if lot.remaining) == [
        (10, LATER),
        (20, LATER),
        (30, SOON),
    ]


async def test_voiding_a_hold_of_points_leaves_stock_alone() -> None:
    db = FakeDatabase()
    _, merchant_id, hold_id = await held(db)
    reward = await given_reward(db, stock=3)

    await void(db, merchant_id, hold_id)

    assert db.tables.rewards[reward.id].stock == 3


async def test_a_well_formed_code_padded_past_the_longest_input_is_invalid_without_a_look_up() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 10, LATER)
    code = await code_for(db, member.id)
    before = snapshot(db)

    refusals = [
        await raised(authorize(db, merchant.id, code + " " * 31, points=10)),
        await raised(authorize(db, 404, code + " " * 31, points=10)),  # not even the merchant is read
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.VALIDATION, INVALID_CODE, ("code",))
    ] * 2
    assert db.tables == before


async def test_a_reward_held_at_a_pos_follows_the_rewards_rules_for_the_member_today() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 200, LATER)
    seed = FakeUnitOfWork(db)
    async with seed:
        gold = await seed.tiers.add(Tier(0, "GOLD", "Gold", 2, min_points=1), NOW)
        daily = await seed.rewards.add(
            name="Tea",
            cost_points=20,
            stock=None,
            active=True,
            at=NOW,
            per_member_limit=1,
            limit_period=LimitPeriod.DAY,
        )
        golden = await seed.rewards.add(
            name="Cup", cost_points=30, stock=None, active=True, at=NOW, tier_ids=frozenset({gold.id})
        )
        await seed.commit()
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)

    first = await authorize(db, merchant.id, await code_for(db, member.id), "a-1", reward_id=daily.id)
    again = await raised(authorize(db, merchant.id, await code_for(db, member.id), "a-2", reward_id=daily.id))
    tomorrow = NOW + timedelta(days=1)
    next_day = await authorize(
        db, merchant.id, await code_for(db, member.id, tomorrow), "a-3", tomorrow, reward_id=daily.id
    )
    for_gold = await authorize(db, merchant.id, await code_for(db, member.id), "a-4", reward_id=golden.id)

    assert (first.points, next_day.points, for_gold.points) == (20, 20, 30)
    assert (again.code, again.message, again.field) == (
        ErrorCode.LIMIT_REACHED,
        "this reward can be redeemed 1 times per day",
        ("rewardId",),
    )


async def test_a_pos_hold_soon_after_a_big_earning_is_refused_by_risk_control() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = next(r for r in db.tables.risk.rules.values() if r.kind is RuleKind.EARN_AND_BURN)
    db.tables.risk.rules[burn.id] = replace(burn, limit=99)
    await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(10_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW - timedelta(minutes=5)),
    )
    code = await code_for(db, member.id)
    before = snapshot(db)

    error = await raised(authorize(db, merchant.id, code, points=10))

    assert (error.code, error.message) == (
        ErrorCode.RISK_REVIEW,
        "refused by risk control: an earning of 100 points in the last 30 minutes, over 99",
    )
    assert db.tables.redemptions == before.redemptions
    assert db.tables.redemption_codes == before.redemption_codes  # the code is still unused


async def test_a_capture_books_the_spend_and_the_rest_on_the_hold_at_its_time() -> None:
    db = FakeDatabase()
    member_id, merchant_id, hold_id = await held(db)
    at = NOW + timedelta(minutes=2)

    await capture(db, merchant_id, hold_id, at=at, points=100)

    booked = {p.entry.kind: p for p in db.tables.journal.values() if p.entry.origin_id == hold_id}
    assert {kind: (p.entry.member_id, p.entry.origin_type, p.at) for kind, p in booked.items()} == {
        EntryKind.HOLD: (member_id, OriginType.REDEMPTION, NOW),
        EntryKind.REDEEM: (member_id, OriginType.REDEMPTION, at),
        EntryKind.RELEASE: (member_id, OriginType.REDEMPTION, at),
    }


async def test_a_capture_or_void_retried_with_its_key_answers_the_same() -> None:
    db = FakeDatabase()
    _, merchant_id, captured_id = await held(db)
    member = await given_member(db, "CRM-2")
    await given_lot(db, member.id, 100, LATER)
    voided = await authorize(db, merchant_id, await code_for(db, member.id), "a-2", points=10)

    captured = await capture(db, merchant_id, captured_id, "c-1", points=100)
    voided_first = await void(db, merchant_id, voided.redemption_id, "v-1")

    assert await capture(db, merchant_id, captured_id, "c-1", points=100) == captured
    assert await void(db, merchant_id, voided.redemption_id, "v-1") == voided_first
    assert isinstance(captured, RedemptionResult)
    assert balance(db, member.id).available == 100


async def test_an_authorization_retried_with_its_key_answers_the_same_and_holds_once() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    code = await code_for(db, member.id)

    first = await authorize(db, merchant.id, code, "a-1", points=30)
    again = await authorize(db, merchant.id, code, "a-1", points=30)

    assert again == first
    assert isinstance(again, RedemptionResult)
    assert balance(db, member.id).held == 30
