"""The use cases over in-memory fakes: exact totals on every money path, and nothing changed on failure."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import (
    AdjustPoints,
    ChangeMemberStatus,
    EnrollMember,
    PostPurchase,
    PresentedMember,
    RedeemReward,
)
from domain.errors import DomainError, ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting, transfer
from domain.lots import LotDraw, NewLot, PointsLot
from domain.members import Balance, Contact, Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import MAX_INT, Money
from domain.purchases import ReasonCode
from domain.results import PurchaseResult
from domain.rewards import RedemptionStatus, Reward
from domain.services.adjustments import adjust_points
from domain.services.admin import enroll_member, lock_member, unlock_member
from domain.services.posting import post_entry
from domain.services.purchases import post_purchase
from domain.services.redemptions import redeem_reward
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork, Tables
from tests.unit.fakes.member_links import linked
from tests.unit.fakes.risk import raise_risk_limits

ADMIN = Actor(Role.ADMIN, "admin-ada", request_id="req-1")
EXPIRES_24_MONTHS_LATER = datetime(2026, 2, 28, 10, 30, tzinfo=UTC)  # NOW is 29 Feb 2024 10:30
SOON = datetime(2024, 6, 30, tzinfo=UTC)
LATER = datetime(2025, 6, 30, tzinfo=UTC)


StatusChange = Callable[..., Awaitable[Member]]


def merchant_actor(merchant_id: int) -> Actor:
    return Actor(Role.MERCHANT, f"pos-{merchant_id}", merchant_id=merchant_id, request_id="req-2")


def member_actor(member_id: int) -> Actor:
    return Actor(Role.MEMBER, f"member-{member_id}", member_id=member_id, request_id="req-3")


# --- givens, written through their own committed unit of work -------------------------------------


async def given_member(
    db: FakeDatabase, external_ref: str = "CRM-1", status: MemberStatus | None = None
) -> Member:
    seed = FakeUnitOfWork(db)
    async with seed:
        member = await seed.members.add(
            external_ref=external_ref,
            profile=Profile(),
            contact=Contact(),
            referral_code=f"REF{external_ref[-4:]}".upper(),
            referred_by=None,
            at=datetime(2023, 1, 1, tzinfo=UTC),
        )
        if status is not None:
            await seed.members.set_status(member.id, status, "given")
            member = replace(member, status=status, status_reason="given")
        await seed.commit()
    return member


async def given_merchant(
    db: FakeDatabase,
    name: str = "Tea House",
    override: Decimal | None = None,
    channel: MerchantChannel = MerchantChannel.BOTH,
) -> Merchant:
    seed = FakeUnitOfWork(db)
    async with seed:
        merchant = await seed.merchants.add(
            name=name,
            category=MerchantCategory.DINING,
            channel=channel,
            partner_id=None,
            earn_rate_override=override,
            at=datetime(2023, 1, 1, tzinfo=UTC),
        )
        await seed.commit()
    return merchant


async def given_reward(db: FakeDatabase, cost: int, stock: int | None = 5, active: bool = True) -> Reward:
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(
            name="Mug", cost_points=cost, stock=stock, active=active, at=datetime(2023, 1, 1, tzinfo=UTC)
        )
        await seed.commit()
    return reward


async def given_lot(db: FakeDatabase, member_id: int, points: int, expires_at: datetime) -> int:
    """Points earned earlier: an issuance entry and its lot, as a purchase would have made them."""
    seed = FakeUnitOfWork(db)
    earned_at = datetime(2024, 1, 1, tzinfo=UTC)
    async with seed:
        await post_entry(
            seed,
            transfer(
                kind=EntryKind.EARN,
                member_id=member_id,
                origin_type=OriginType.PURCHASE,
                origin_id=0,
                source=Account(AccountKind.ISSUANCE),
                destination=Account.available(member_id),
                points=points,
                description="given",
            ),
            earned_at,
            NewLot(member_id, points, earned_at, expires_at),
        )
        await seed.commit()
    return max(db.tables.lots)  # the lot just made has the highest id


def snapshot(db: FakeDatabase) -> Tables:
    return copy.deepcopy(db.tables)


def assert_unchanged_but_for_idempotency(db: FakeDatabase, before: Tables) -> None:
    assert replace(db.tables, idempotency={}) == replace(before, idempotency={})


async def raised(use_case: Awaitable[object]) -> DomainError:
    """Run a use case that must refuse, and return the refusal."""
    with pytest.raises(DomainError) as info:
        await use_case
    return info.value


def balance(db: FakeDatabase, member_id: int) -> Balance:
    return db.tables.balances[member_id]


def lots_of(db: FakeDatabase, member_id: int) -> list[PointsLot]:
    return [lot for lot in db.tables.lots.values() if lot.member_id == member_id]


# --- enrolment ------------------------------------------------------------------------------------


async def test_enroll_member_creates_an_active_member_with_an_empty_balance_and_audits_it(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # when
    member = await enroll_member(
        EnrollMember(external_ref="  CRM-42 ", contact=Contact(email="li@example.com")),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    # then
    assert db.tables.members == {member.id: member}
    assert member.external_ref == "CRM-42"
    assert member.status is MemberStatus.ACTIVE
    assert member.enrolled_at == clock.now()
    assert len(member.referral_code) == 8
    assert member.referred_by is None
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0)
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id) == (
        "admin-ada",
        "enrollMember",
        "Member",
        member.id,
    )
    assert (event.request_id, event.at, event.before) == ("req-1", clock.now(), None)
    assert event.after is not None
    assert event.after["external_ref"] == "CRM-42"
    assert uow.commits == 1


async def test_enroll_member_with_a_referral_code_records_the_referrer(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given
    referrer = await given_member(db, "CRM-1")

    # when the code is typed in lower case with spaces around it
    member = await enroll_member(
        EnrollMember(external_ref="CRM-2", referral_code=f" {referrer.referral_code.lower()} "),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    # then
    assert member.referred_by == referrer.id
    assert db.tables.members[member.id].referred_by == referrer.id


async def test_enrolling_an_external_ref_twice_is_already_exists_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given
    await given_member(db, "CRM-1")
    before = snapshot(db)

    # when
    error = await raised(
        enroll_member(EnrollMember(external_ref=" CRM-1"), actor=ADMIN, uow=uow, clock=clock)
    )

    # then
    assert (error.code, error.field) == (ErrorCode.ALREADY_EXISTS, ("externalRef",))
    assert db.tables == before
    assert uow.commits == 0


async def test_enrolling_with_an_unknown_referral_code_is_not_found_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    before = snapshot(db)

    error = await raised(
        enroll_member(
            EnrollMember(external_ref="CRM-9", referral_code="NOSUCH22"), actor=ADMIN, uow=uow, clock=clock
        )
    )

    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, ("referralCode",))
    assert db.tables == before
    assert uow.commits == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.PARTNER])
async def test_only_an_admin_enrolls_members(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, role: Role
) -> None:
    before = snapshot(db)

    error = await raised(
        enroll_member(EnrollMember(external_ref="CRM-9"), actor=Actor(role, "someone"), uow=uow, clock=clock)
    )

    assert error.code is ErrorCode.FORBIDDEN
    assert db.tables == before


async def test_enrolling_with_an_invalid_birth_year_is_validation_with_its_field_path(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    before = snapshot(db)

    error = await raised(
        enroll_member(
            EnrollMember(external_ref="CRM-9", profile=Profile(birth_year=2025)),
            actor=ADMIN,
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("profile", "birthYear"))
    assert db.tables == before


# --- posting a purchase ---------------------------------------------------------------------------


async def test_a_purchase_earns_base_points_rounded_down_into_a_lot_that_expires_in_24_months(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given
    member = await given_member(db)
    merchant = await given_merchant(db)

    # when 19.99 yuan is spent at 1 point per yuan
    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1", reference="R-1"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    # then 19 points, not 20
    assert (result.member_id, result.points_earned, result.points_pending) == (member.id, 19, 0)
    assert balance(db, member.id) == Balance(member.id, 19, 0, 0, 19, 0)
    purchase = db.tables.purchases[result.purchase_id]
    assert result.purchase() == purchase
    assert (purchase.member_id, purchase.merchant_id, purchase.amount) == (
        member.id,
        merchant.id,
        Money(1999, "CNY"),
    )
    assert (purchase.points_earned, purchase.channel, purchase.reference) == (19, Channel.OFFLINE, "R-1")
    assert purchase.occurred_at == purchase.created_at == clock.now()
    [posted] = db.tables.journal.values()
    assert posted.entry.kind is EntryKind.EARN
    assert (posted.entry.origin_type, posted.entry.origin_id) == (OriginType.PURCHASE, result.purchase_id)
    assert posted.entry.postings == (
        Posting(Account(AccountKind.ISSUANCE), -19),
        Posting(Account.available(member.id), 19),
    )
    assert posted.entry.description == "Earned at Tea House"
    [lot] = lots_of(db, member.id)
    assert (lot.points, lot.remaining) == (19, 19)
    assert lot.earned_at == clock.now()
    assert lot.expires_at == EXPIRES_24_MONTHS_LATER
    assert db.tables.idempotency[(f"merchant:{merchant.id}", "pos-1")].response == {
        "result": asdict(PurchaseResult.of(purchase))
    }
    assert uow.commits == 1


async def test_a_merchant_override_rate_replaces_the_programme_rate(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db, override=Decimal("2.5"))

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "k"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result.points_earned == 49  # 49.975
    assert balance(db, member.id).available == 49


async def test_a_purchase_in_a_currency_without_minor_units_earns_at_its_rate(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1999, "jpy"), "k"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result.points_earned == 99  # 1999 yen at 0.05 = 99.95
    assert db.tables.purchases[result.purchase_id].amount == Money(1999, "JPY")
    assert balance(db, member.id).available == 99


async def test_a_purchase_that_earns_nothing_is_recorded_without_an_entry_or_a_lot(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(99, "CNY"), "k"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result.points_earned == 0
    assert list(db.tables.purchases) == [result.purchase_id]
    assert db.tables.journal == {}
    assert db.tables.lots == {}
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0)


async def test_a_purchase_for_a_locked_member_is_member_locked_and_moves_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given
    member = await given_member(db, status=MemberStatus.LOCKED)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    # when
    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "k"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    # then only the rejection is stored, under the key
    assert (error.code, error.field) == (ErrorCode.MEMBER_LOCKED, ("memberRef",))
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 0, 0)
    assert db.tables.idempotency[(f"merchant:{merchant.id}", "k")].response == {
        "error": {"code": "MEMBER_LOCKED", "message": "member is locked", "field": ["memberRef"]}
    }


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (Money(1999, "XYZ"), ("amount", "currency")),  # not a currency at all
        (Money(1999, "USD"), ("amount", "currency")),  # a currency this programme does not earn in
        (Money(0, "CNY"), ("amount", "amountMinor")),
        (Money(-100, "CNY"), ("amount", "amountMinor")),
        (Money(2**31, "CNY"), ("amount", "amountMinor")),
    ],
)
async def test_a_purchase_with_invalid_money_is_validation_and_stores_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, amount: Money, field: tuple[str, ...]
) -> None:
    # given
    member = await given_member(db)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    # when
    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), amount, "k"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    # then nothing at all, not even the idempotency key
    assert (error.code, error.field) == (ErrorCode.VALIDATION, field)
    assert db.tables == before
    assert db.tables.idempotency == {}
    assert uow.commits == 0


async def test_the_largest_32_bit_amount_is_accepted(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    raise_risk_limits(db)  # no default rule lets this amount by without review

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(2**31 - 1, "CNY"), "k"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result.points_earned == 21_474_836  # 21,474,836.47 yuan
    assert balance(db, member.id).available == 21_474_836


async def test_a_purchase_that_would_earn_more_than_a_32_bit_int_is_validation(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db, override=Decimal(10_000))
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(2**31 - 1, "CNY"), "k"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("amount", "amountMinor"))
    assert db.tables == before


async def test_a_purchase_in_the_future_is_validation(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(
                linked(db, merchant.id, member.id),
                Money(1999, "CNY"),
                "k",
                occurred_at=clock.now() + timedelta(minutes=6),
            ),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("occurredAt",))
    assert db.tables == before


async def test_a_purchase_on_a_channel_the_merchant_does_not_sell_on_is_validation(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db, channel=MerchantChannel.ONLINE)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(
                linked(db, merchant.id, member.id), Money(1999, "CNY"), "k", channel=Channel.OFFLINE
            ),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("channel",))
    assert db.tables == before


@pytest.mark.parametrize(
    "actor",
    [ADMIN, Actor(Role.MEMBER, "m", member_id=1), Actor(Role.PARTNER, "p", partner_id=1)],
    ids=["admin", "member", "partner"],
)
async def test_only_a_merchant_posts_purchases(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, actor: Actor
) -> None:
    member = await given_member(db)
    await given_merchant(db)
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(PresentedMember(member_id=member.id), Money(1999, "CNY"), "k"),
            actor=actor,
            uow=uow,
            clock=clock,
        )
    )

    assert error.code is ErrorCode.FORBIDDEN
    assert db.tables == before


async def test_a_merchant_naming_a_member_that_did_not_present_itself_gets_one_refusal_and_moves_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    merchant = await given_merchant(db)
    other = await given_merchant(db, "Noodle Bar")
    served = await given_member(db)
    locked = await given_member(db, "CRM-2", status=MemberStatus.LOCKED)
    elsewhere = linked(db, other.id, served.id)  # a link to another merchant
    before = snapshot(db)

    async def refusal(member: PresentedMember, key: str) -> tuple[ErrorCode, tuple[str, ...] | None, str]:
        command = PostPurchase(member, Money(1999, "CNY"), key)
        error = await raised(post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock))
        return error.code, error.field, error.message

    by_id = [await refusal(PresentedMember(member_id=m), f"id-{m}") for m in (served.id, locked.id, 999)]
    by_ref = [
        await refusal(PresentedMember(ref=ref), f"ref-{n}")
        for n, ref in enumerate([elsewhere.ref or "", "MR" + "2" * 20, "not-a-reference"])
    ]
    by_code = await refusal(PresentedMember(code="2345678923"), "code")

    assert by_id == [by_id[0]] * 3
    assert by_id[0][:2] == (ErrorCode.NOT_FOUND, ("memberId",))
    assert by_ref == [(ErrorCode.NOT_FOUND, ("memberRef",), by_id[0][2])] * 3
    assert by_code == (ErrorCode.NOT_FOUND, ("memberCode",), by_id[0][2])
    assert_unchanged_but_for_idempotency(db, before)


# --- idempotency ----------------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_and_input_returns_the_first_result_and_moves_points_once(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given a purchase already posted
    member = await given_member(db)
    merchant = await given_merchant(db)
    command = PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1")
    first = await post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock)
    after_first = snapshot(db)

    # when it is retried, even a day later
    later = FixedClock(clock.now() + timedelta(days=1))
    second = await post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=later)

    # then
    assert second == first
    assert db.tables == after_first
    assert balance(db, member.id) == Balance(member.id, 19, 0, 0, 19, 0)
    assert len(db.tables.purchases) == len(db.tables.journal) == len(db.tables.lots) == 1
    assert uow.commits == 1


async def test_a_success_is_replayed_even_when_the_retry_could_no_longer_succeed(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given a purchase posted, and the member locked since
    member = await given_member(db)
    merchant = await given_merchant(db)
    command = PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1")
    first = await post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock)
    await lock_member(
        ChangeMemberStatus(member.id, "review"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    before = snapshot(db)

    # when the request is retried
    second = await post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock)

    # then the first answer, not MEMBER_LOCKED, and nothing moves
    assert second == first
    assert db.tables == before
    assert balance(db, member.id).available == 19


async def test_the_same_key_with_a_different_input_is_idempotency_key_reused_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(2999, "CNY"), "pos-1"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    assert db.tables == before
    assert balance(db, member.id).available == 19


async def test_a_business_rejection_is_replayed_even_after_its_cause_is_gone(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given a purchase refused because the member was locked
    member = await given_member(db, status=MemberStatus.LOCKED)
    merchant = await given_merchant(db)
    command = PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1")
    first = await raised(post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock))
    assert first.code is ErrorCode.MEMBER_LOCKED

    # and the member unlocked since
    await unlock_member(
        ChangeMemberStatus(member.id, "verified"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    assert db.tables.members[member.id].status is MemberStatus.ACTIVE
    before = snapshot(db)

    # when the same request is retried with the same key
    again = await raised(post_purchase(command, actor=merchant_actor(merchant.id), uow=uow, clock=clock))

    # then the first answer, and still no points
    assert (again.code, again.field, again.message) == (first.code, first.field, first.message)
    assert db.tables == before
    assert balance(db, member.id).available == 0

    # while a new key goes through
    result = await post_purchase(
        replace(command, idempotency_key="pos-2"), actor=merchant_actor(merchant.id), uow=uow, clock=clock
    )
    assert result.points_earned == 19
    assert balance(db, member.id).available == 19


async def test_a_validation_failure_is_not_stored_so_a_corrected_retry_with_the_same_key_succeeds(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given a request refused for a currency the programme does not accept
    member = await given_member(db)
    merchant = await given_merchant(db)
    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1999, "USD"), "pos-1"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )
    assert error.code is ErrorCode.VALIDATION
    assert db.tables.idempotency == {}

    # when it is corrected and sent again under the same key
    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "pos-1"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    # then
    assert result.points_earned == 19
    assert balance(db, member.id).available == 19
    assert db.tables.idempotency[(f"merchant:{merchant.id}", "pos-1")].response == {"result": asdict(result)}


async def test_two_merchants_may_use_the_same_key_without_colliding(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    tea = await given_merchant(db, "Tea House")
    noodles = await given_merchant(db, "Noodle Bar")
    at_tea = await post_purchase(
        PostPurchase(linked(db, tea.id, member.id), Money(1999, "CNY"), "receipt-1"),
        actor=merchant_actor(tea.id),
        uow=uow,
        clock=clock,
    )
    at_noodles = await post_purchase(
        PostPurchase(linked(db, noodles.id, member.id), Money(1999, "CNY"), "receipt-1"),
        actor=merchant_actor(noodles.id),
        uow=uow,
        clock=clock,
    )

    # each posted its own purchase; neither got the other's stored response
    assert at_tea.purchase_id != at_noodles.purchase_id
    assert db.tables.purchases[at_tea.purchase_id].merchant_id == tea.id
    assert db.tables.purchases[at_noodles.purchase_id].merchant_id == noodles.id
    assert balance(db, member.id) == Balance(member.id, 38, 0, 0, 38, 0)
    assert set(db.tables.idempotency) == {
        (f"merchant:{tea.id}", "receipt-1"),
        (f"merchant:{noodles.id}", "receipt-1"),
    }
    assert uow.commits == 2


@pytest.mark.parametrize("key", ["", "   ", "k" * 101, "bad\x00key"])
async def test_a_blank_overlong_or_control_character_key_is_validation_and_stores_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, key: str
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), key),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("idempotencyKey",))
    assert db.tables == before


# --- redeeming a reward ---------------------------------------------------------------------------


async def test_redeeming_spends_the_cost_from_the_soonest_expiring_lots_and_takes_one_from_stock(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given 800 points in two lots, the later-expiring one created first; a 400-point reward, 5 in stock
    member = await given_member(db)
    later_lot = await given_lot(db, member.id, 500, LATER)
    sooner_lot = await given_lot(db, member.id, 300, SOON)
    reward = await given_reward(db, cost=400, stock=5)

    # when
    result = await redeem_reward(
        RedeemReward(reward.id, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock
    )

    # then
    assert (result.member_id, result.points) == (member.id, 400)
    answered = result.snapshot()
    assert answered is not None
    assert (answered.id, answered.status, answered.points) == (
        result.redemption_id,
        RedemptionStatus.REQUESTED,
        400,
    )
    assert balance(db, member.id) == Balance(member.id, 400, 0, 0, 800, 400)
    assert db.tables.rewards[reward.id].stock == 4
    assert db.tables.lots[sooner_lot].remaining == 0
    assert db.tables.lots[later_lot].remaining == 400
    redemption = db.tables.redemptions[result.redemption_id]
    assert (redemption.member_id, redemption.reward_id, redemption.points) == (member.id, reward.id, 400)
    assert redemption.status is RedemptionStatus.REQUESTED
    entry_id, posted = next((i, p) for i, p in db.tables.journal.items() if p.entry.kind is EntryKind.REDEEM)
    assert posted.entry.postings == (
        Posting(Account.available(member.id), -400),
        Posting(Account(AccountKind.REDEMPTION), 400),
    )
    assert (posted.entry.origin_type, posted.entry.origin_id) == (OriginType.REDEMPTION, result.redemption_id)
    assert db.tables.lot_draws == [(entry_id, LotDraw(sooner_lot, 300)), (entry_id, LotDraw(later_lot, 100))]
    assert uow.commits == 1


async def test_redeeming_twice_with_the_same_key_redeems_once(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=400, stock=5)
    command = RedeemReward(reward.id, "wallet-1")

    first = await redeem_reward(command, actor=member_actor(member.id), uow=uow, clock=clock)
    second = await redeem_reward(command, actor=member_actor(member.id), uow=uow, clock=clock)

    assert second == replace(first, voucher_code=None)  # the voucher's code is in the first answer only
    assert first.voucher_code is not None
    assert balance(db, member.id).available == 600
    assert db.tables.rewards[reward.id].stock == 4
    assert len(db.tables.redemptions) == 1


async def test_a_reward_with_unlimited_stock_stays_unlimited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 400, LATER)
    reward = await given_reward(db, cost=400, stock=None)

    await redeem_reward(
        RedeemReward(reward.id, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock
    )

    assert db.tables.rewards[reward.id].stock is None
    assert balance(db, member.id).available == 0


async def test_redeeming_more_than_the_balance_is_insufficient_points_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given 399 points and a 400-point reward
    member = await given_member(db)
    await given_lot(db, member.id, 399, LATER)
    reward = await given_reward(db, cost=400, stock=5)
    before = snapshot(db)

    # when
    error = await raised(
        redeem_reward(
            RedeemReward(reward.id, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock
        )
    )

    # then balance, lots, journal, stock and redemptions are as they were; the rejection is stored
    assert error.code is ErrorCode.INSUFFICIENT_POINTS
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id) == Balance(member.id, 399, 0, 0, 399, 0)
    assert db.tables.rewards[reward.id].stock == 5
    assert db.tables.redemptions == {}
    stored = db.tables.idempotency[(f"member:{member.id}", "wallet-1")].response
    assert stored == {
        "error": {"code": "INSUFFICIENT_POINTS", "message": "not enough points available", "field": []}
    }


@pytest.mark.parametrize(
    ("stock", "active", "code"),
    [
        (0, True, ErrorCode.REWARD_OUT_OF_STOCK),
        (5, False, ErrorCode.REWARD_INACTIVE),
    ],
)
async def test_a_reward_out_of_stock_or_inactive_cannot_be_redeemed_and_nothing_changes(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, stock: int, active: bool, code: ErrorCode
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=400, stock=stock, active=active)
    before = snapshot(db)

    error = await raised(
        redeem_reward(
            RedeemReward(reward.id, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock
        )
    )

    assert (error.code, error.field) == (code, ("rewardId",))
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id).available == 1000
    assert db.tables.rewards[reward.id].stock == stock


async def test_redeeming_an_unknown_reward_is_not_found(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    before = snapshot(db)

    error = await raised(
        redeem_reward(RedeemReward(999, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock)
    )

    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, ("rewardId",))
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_locked_member_cannot_redeem(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=400)
    await lock_member(
        ChangeMemberStatus(member.id, "fraud check"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    before = snapshot(db)

    error = await raised(
        redeem_reward(
            RedeemReward(reward.id, "wallet-1"), actor=member_actor(member.id), uow=uow, clock=clock
        )
    )

    assert error.code is ErrorCode.MEMBER_LOCKED
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id).available == 1000


@pytest.mark.parametrize(
    "actor",
    [ADMIN, Actor(Role.MERCHANT, "pos", merchant_id=1), Actor(Role.MEMBER, "no-member-id")],
    ids=["admin", "merchant", "member-without-id"],
)
async def test_only_a_member_redeems_for_itself(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, actor: Actor
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 1000, LATER)
    reward = await given_reward(db, cost=400)
    before = snapshot(db)

    error = await raised(
        redeem_reward(RedeemReward(reward.id, "wallet-1"), actor=actor, uow=uow, clock=clock)
    )

    assert error.code is ErrorCode.FORBIDDEN
    assert db.tables == before


# --- adjusting points -----------------------------------------------------------------------------


async def test_a_positive_adjustment_credits_the_member_creates_a_lot_and_is_audited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given
    member = await given_member(db)

    # when
    result = await adjust_points(
        AdjustPoints(member.id, 500, ReasonCode.GOODWILL, "adj-1", note=" late delivery "),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    # then
    adjustment = result.adjustment()
    assert adjustment is not None
    assert (adjustment.id, adjustment.member_id, adjustment.points) == (result.adjustment_id, member.id, 500)
    assert balance(db, member.id) == Balance(member.id, 500, 0, 0, 500, 0)
    [lot] = lots_of(db, member.id)
    assert (lot.points, lot.remaining, lot.earned_at, lot.expires_at) == (
        500,
        500,
        clock.now(),
        EXPIRES_24_MONTHS_LATER,
    )
    adjustment = db.tables.adjustments[result.adjustment_id]
    assert (adjustment.points, adjustment.reason_code, adjustment.note, adjustment.actor) == (
        500,
        ReasonCode.GOODWILL,
        "late delivery",
        "admin-ada",
    )
    [posted] = db.tables.journal.values()
    assert posted.entry.kind is EntryKind.ADJUST
    assert posted.entry.postings == (
        Posting(Account(AccountKind.ADJUSTMENT), -500),
        Posting(Account.available(member.id), 500),
    )
    assert posted.entry.description == "Adjustment: goodwill"
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_id, event.request_id) == (
        "admin-ada",
        "adjustPoints",
        member.id,
        "req-1",
    )
    assert event.before == {
        "member_id": member.id,
        "available": 0,
        "pending": 0,
        "held": 0,
        "lifetime_earned": 0,
        "lifetime_redeemed": 0,
        "debt": 0,
        "under_review": 0,
    }
    assert event.after == {
        "member_id": member.id,
        "available": 500,
        "pending": 0,
        "held": 0,
        "lifetime_earned": 500,
        "lifetime_redeemed": 0,
        "debt": 0,
        "under_review": 0,
        "reasonCode": "GOODWILL",
        "note": "late delivery",
    }
    assert uow.commits == 1


async def test_a_negative_adjustment_consumes_the_soonest_expiring_lots_first(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given 300 points: 200 expiring later, 100 sooner
    member = await given_member(db)
    later_lot = await given_lot(db, member.id, 200, LATER)
    sooner_lot = await given_lot(db, member.id, 100, SOON)

    # when 150 are taken back
    await adjust_points(
        AdjustPoints(member.id, -150, ReasonCode.FRAUD_REVERSAL, "adj-1"), actor=ADMIN, uow=uow, clock=clock
    )

    # then
    assert balance(db, member.id) == Balance(member.id, 150, 0, 0, 300, 0)
    assert db.tables.lots[sooner_lot].remaining == 0
    assert db.tables.lots[later_lot].remaining == 150
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.ADJUST]
    assert posted.entry.postings == (
        Posting(Account.available(member.id), -150),
        Posting(Account(AccountKind.ADJUSTMENT), 150),
    )
    [event] = db.tables.audit
    assert event.before is not None
    assert event.after is not None
    assert (event.before["available"], event.after["available"]) == (300, 150)


async def test_a_negative_adjustment_beyond_the_balance_is_insufficient_points_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    before = snapshot(db)

    error = await raised(
        adjust_points(
            AdjustPoints(member.id, -101, ReasonCode.CORRECTION, "adj-1"), actor=ADMIN, uow=uow, clock=clock
        )
    )

    assert error.code is ErrorCode.INSUFFICIENT_POINTS
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id) == Balance(member.id, 100, 0, 0, 100, 0)
    assert db.tables.adjustments == {}
    assert db.tables.audit == []


@pytest.mark.parametrize("points", [0, 2**31, -(2**31)])
async def test_an_adjustment_of_zero_or_out_of_range_points_is_validation_and_stores_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, points: int
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    before = snapshot(db)

    error = await raised(
        adjust_points(
            AdjustPoints(member.id, points, ReasonCode.CORRECTION, "adj-1"), actor=ADMIN, uow=uow, clock=clock
        )
    )

    assert (error.code, error.field) == (ErrorCode.VALIDATION, ("points",))
    assert db.tables == before


async def test_a_locked_member_may_still_be_adjusted(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db, status=MemberStatus.LOCKED)
    await given_lot(db, member.id, 100, LATER)

    await adjust_points(
        AdjustPoints(member.id, -100, ReasonCode.FRAUD_REVERSAL, "adj-1"), actor=ADMIN, uow=uow, clock=clock
    )

    assert balance(db, member.id).available == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.PARTNER])
async def test_only_an_admin_adjusts_points(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, role: Role
) -> None:
    member = await given_member(db)
    before = snapshot(db)

    error = await raised(
        adjust_points(
            AdjustPoints(member.id, 500, ReasonCode.GOODWILL, "adj-1"),
            actor=Actor(role, "x", member_id=member.id, merchant_id=1, partner_id=1),
            uow=uow,
            clock=clock,
        )
    )

    assert error.code is ErrorCode.FORBIDDEN
    assert db.tables == before


# --- locking and unlocking ------------------------------------------------------------------------


async def test_locking_a_member_sets_the_status_and_reason_and_is_audited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)

    locked = await lock_member(
        ChangeMemberStatus(member.id, " chargeback "), actor=ADMIN, uow=uow, clock=clock
    )

    assert (locked.status, locked.status_reason) == (MemberStatus.LOCKED, "chargeback")
    assert db.tables.members[member.id] == locked
    [event] = db.tables.audit
    assert (event.action, event.target_type, event.target_id, event.actor) == (
        "lockMember",
        "Member",
        member.id,
        "admin-ada",
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("ACTIVE", "LOCKED")
    assert event.after["status_reason"] == "chargeback"
    assert uow.commits == 1


async def test_unlocking_a_locked_member_makes_it_active_and_is_audited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db, status=MemberStatus.LOCKED)

    unlocked = await unlock_member(
        ChangeMemberStatus(member.id, "cleared"), actor=ADMIN, uow=uow, clock=clock
    )

    assert (unlocked.status, unlocked.status_reason) == (MemberStatus.ACTIVE, "cleared")
    assert db.tables.members[member.id].status is MemberStatus.ACTIVE
    [event] = db.tables.audit
    assert event.action == "unlockMember"
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("LOCKED", "ACTIVE")


@pytest.mark.parametrize(
    ("status", "change"),
    [(MemberStatus.LOCKED, lock_member), (MemberStatus.ACTIVE, unlock_member)],
    ids=["lock-locked", "unlock-active"],
)
async def test_changing_a_member_to_the_state_it_is_in_is_a_no_op(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, status: MemberStatus, change: StatusChange
) -> None:
    member = await given_member(db, status=None if status is MemberStatus.ACTIVE else status)
    before = snapshot(db)

    result = await change(ChangeMemberStatus(member.id, "again"), actor=ADMIN, uow=uow, clock=clock)

    assert result == member
    assert db.tables == before  # no status change, no audit event
    assert uow.commits == 0


async def test_a_closed_member_cannot_be_locked_or_unlocked(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db, status=MemberStatus.CLOSED)
    before = snapshot(db)

    for change in (lock_member, unlock_member):
        error = await raised(change(ChangeMemberStatus(member.id, "why"), actor=ADMIN, uow=uow, clock=clock))
        assert (error.code, error.field) == (ErrorCode.VALIDATION, ("memberId",))
    assert db.tables == before


async def test_locking_needs_a_reason_an_existing_member_and_an_admin(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    before = snapshot(db)

    blank = await raised(lock_member(ChangeMemberStatus(member.id, "  "), actor=ADMIN, uow=uow, clock=clock))
    missing = await raised(lock_member(ChangeMemberStatus(999, "fraud"), actor=ADMIN, uow=uow, clock=clock))
    not_admin = await raised(
        lock_member(ChangeMemberStatus(member.id, "fraud"), actor=merchant_actor(1), uow=uow, clock=clock)
    )

    assert (blank.code, blank.field) == (ErrorCode.VALIDATION, ("reason",))
    assert (missing.code, missing.field) == (ErrorCode.NOT_FOUND, ("memberId",))
    assert not_admin.code is ErrorCode.FORBIDDEN
    assert db.tables == before


# --- stored balances stay within GraphQL's 32-bit Int ---


async def test_a_purchase_that_would_take_the_balance_past_the_32_bit_limit_is_refused_and_changes_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    # given a balance 10 points below the limit
    member = await given_member(db)
    await given_lot(db, member.id, MAX_INT - 10, LATER)
    merchant = await given_merchant(db)
    linked(db, merchant.id, member.id)  # the member linked itself to the shop
    before = snapshot(db)

    # when a purchase would earn 19 more
    error = await raised(
        post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(1999, "CNY"), "k"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )
    )

    # then it is refused and the balance stays representable
    assert error.code in (ErrorCode.VALIDATION, ErrorCode.LIMIT_REACHED)
    assert_unchanged_but_for_idempotency(db, before)
    assert balance(db, member.id).available == MAX_INT - 10


async def test_a_credit_adjustment_that_would_take_the_balance_past_the_32_bit_limit_is_refused(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, MAX_INT - 10, LATER)
    before = snapshot(db)

    error = await raised(
        adjust_points(
            AdjustPoints(member.id, 11, ReasonCode.GOODWILL, "adj-1"), actor=ADMIN, uow=uow, clock=clock
        )
    )

    assert error.code in (ErrorCode.VALIDATION, ErrorCode.LIMIT_REACHED)
    assert_unchanged_but_for_idempotency(db, before)
