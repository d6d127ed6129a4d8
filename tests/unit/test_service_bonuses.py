"""Bonuses outside a member's own purchase, over the fakes: sign-up bonuses on enrolment, referral
bonuses when a referred member buys, and red packets opened with a code. Each is a member award,
the origin of its journal entry, counted against its offer's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import EnrollMember, OpenRedPacket
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import Balance, Member, MemberStatus
from domain.movements import MemberAward
from domain.offers import (
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    Trigger,
    Usage,
    Window,
)
from domain.results import RedPacketResult
from domain.services.admin import enroll_member
from domain.services.bonuses import give_sign_up_bonuses, open_red_packet
from domain.services.offers import change_offer_status, create_offer, generate_coupons
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork, PostedEntry
from tests.unit.steps import buy
from tests.unit.test_services import (
    ADMIN,
    assert_unchanged_but_for_idempotency,
    balance,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
STARTS = NOW - timedelta(days=1)
ENDS = NOW + timedelta(days=10)
EXPIRES = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def offer(
    db: FakeDatabase, trigger: Trigger, points: int, merchant_id: int | None = None, **fields: Any
) -> Offer:
    """An offer as an admin creates it (checked, its limits completed by the service)."""
    funding = (
        (FundingShare(FunderKind.MERCHANT, merchant_id, 30), FundingShare(FunderKind.PROGRAMME, None, 70))
        if merchant_id is not None
        else (FundingShare(FunderKind.PROGRAMME, None, 100),)
    )
    values: dict[str, Any] = {"window": Window(STARTS, ENDS), "funding": funding} | fields
    draft = Offer(
        0,
        0,
        f"{trigger.value.lower()} bonus",
        Mechanic.BONUS_POINTS,
        points=points,
        trigger=trigger,
        **values,
    )
    return await create_offer(draft, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))


async def enrol(db: FakeDatabase, clock: FixedClock, ref: str, referral_code: str | None = None) -> Member:
    return await enroll_member(
        EnrollMember(external_ref=ref, referral_code=referral_code),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )


def award_entries(db: FakeDatabase) -> list[PostedEntry]:
    return [p for p in db.tables.journal.values() if p.entry.origin_type is OriginType.AWARD]


# --- sign-up --------------------------------------------------------------------------------------


async def test_enrolling_gives_each_live_sign_up_bonus_booked_against_its_funders(clock: FixedClock) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    welcome = await offer(db, Trigger.SIGN_UP, 100, merchant_id=merchant.id)
    extra = await offer(db, Trigger.SIGN_UP, 7)
    await offer(db, Trigger.PURCHASE, 50)  # not a sign-up offer

    member = await enrol(db, clock, "CRM-1")

    assert balance(db, member.id) == Balance(member.id, 107, 0, 0, 107, 0)
    assert list(db.tables.member_awards.values()) == [
        MemberAward(a, member.id, o.id, "SIGN_UP", o.points, None, NOW)
        for a, o in zip(db.tables.member_awards, (welcome, extra), strict=True)
    ]
    first, second = award_entries(db)
    assert first.entry.kind is EntryKind.EARN
    assert first.entry.origin_id == min(db.tables.member_awards)
    assert first.entry.postings == (
        Posting(Account(AccountKind.MERCHANT_FUNDING, merchant.id), -30),
        Posting(Account(AccountKind.ISSUANCE), -70),
        Posting(Account.available(member.id), 100),
    )
    assert first.entry.description == "Welcome bonus: sign_up bonus"
    assert first.at == second.at == NOW
    assert second.entry.postings[-1] == Posting(Account.available(member.id), 7)
    assert [(lot.points, lot.expires_at) for lot in lots_of(db, member.id)] == [(100, EXPIRES), (7, EXPIRES)]
    assert db.tables.offer_usage[welcome.id] == Usage(100, 0, 1)


async def test_a_sign_up_offer_gives_from_its_first_instant_until_just_before_its_end(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    await offer(db, Trigger.SIGN_UP, 10)

    clock.at = STARTS - timedelta(microseconds=1)
    too_early = await enrol(db, clock, "CRM-1")
    clock.at = STARTS
    first = await enrol(db, clock, "CRM-2")
    clock.at = ENDS - timedelta(microseconds=1)
    last = await enrol(db, clock, "CRM-3")
    clock.at = ENDS
    too_late = await enrol(db, clock, "CRM-4")

    assert [balance(db, m.id).available for m in (too_early, first, last, too_late)] == [0, 10, 10, 0]


async def test_a_sign_up_budget_gives_while_a_whole_bonus_fits_and_not_after(clock: FixedClock) -> None:
    db = FakeDatabase()
    capped = await offer(db, Trigger.SIGN_UP, 100, limits=Limits(budget_points=200))

    members = [await enrol(db, clock, f"CRM-{n}") for n in range(3)]

    assert [balance(db, m.id).available for m in members] == [100, 100, 0]
    assert db.tables.offer_usage[capped.id].points == 200
    assert len(db.tables.member_awards) == 2


async def test_a_paused_sign_up_offer_gives_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    paused = await offer(db, Trigger.SIGN_UP, 100)
    await change_offer_status(paused.id, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)

    member = await enrol(db, clock, "CRM-1")

    assert balance(db, member.id).available == 0
    assert award_entries(db) == []


# --- referral ---------------------------------------------------------------------------------------


async def test_a_referred_members_purchase_pays_its_referrer_the_offers_referrer_points(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    referrer = await given_member(db, "CRM-1")
    promo = await offer(db, Trigger.PURCHASE, 10, referrer_points=25, limits=Limits(budget_points=1_000))
    referred = await enrol(db, clock, "CRM-2", referrer.referral_code.lower())

    bought = await buy(db, clock, merchant.id, referred.id, 10_000, "pos-1")

    assert bought.points_earned == 110
    assert balance(db, referred.id) == Balance(referred.id, 110, 0, 0, 110, 0)
    assert balance(db, referrer.id) == Balance(referrer.id, 25, 0, 0, 25, 0)
    [award] = db.tables.member_awards.values()
    assert award == MemberAward(award.id, referrer.id, promo.id, "REFERRAL", 25, bought.purchase_id, NOW)
    [posted] = award_entries(db)
    assert (posted.entry.member_id, posted.entry.origin_id) == (referrer.id, award.id)
    assert posted.entry.postings == (
        Posting(Account(AccountKind.ISSUANCE), -25),
        Posting(Account.available(referrer.id), 25),
    )
    assert posted.entry.description == "Referral bonus: CRM-2"
    assert posted.at == NOW
    assert [(lot.points, lot.expires_at) for lot in lots_of(db, referrer.id)] == [(25, EXPIRES)]
    assert db.tables.offer_usage[promo.id].points == 35  # the buyer's and the referrer's share of the budget
    told = [e for e in db.tables.outbox if e.type.value == "offer.awarded" and e.member_id == referrer.id]
    assert [e.payload for e in told] == [
        {
            "offerId": promo.id,
            "purchaseId": bought.purchase_id,
            "points": 25,
            "discountMinor": 0,
            "cashbackMinor": 0,
        }
    ]


async def test_a_locked_referrer_earns_nothing_and_a_member_without_a_referrer_pays_no_one(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    referrer = await given_member(db, "CRM-1", MemberStatus.LOCKED)
    promo = await offer(db, Trigger.PURCHASE, 10, referrer_points=25)
    referred = await enrol(db, clock, "CRM-2", referrer.referral_code)
    loner = await enrol(db, clock, "CRM-3")

    await buy(db, clock, merchant.id, referred.id, 10_000, "pos-1")
    await buy(db, clock, merchant.id, loner.id, 10_000, "pos-2")

    assert balance(db, referrer.id).available == 0
    assert db.tables.member_awards == {}
    assert db.tables.offer_usage[promo.id].points == 20  # the two buyers' bonuses only


# --- red packets --------------------------------------------------------------------------------------


async def red_packet(db: FakeDatabase, points: int, uses: int, **fields: Any) -> Offer:
    packet = await offer(db, Trigger.RED_PACKET, points, **fields)
    await generate_coupons(
        packet.id,
        count=None,
        shared_code="cny2024",
        max_uses=uses,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    return packet


async def open_packet(
    db: FakeDatabase, clock: FixedClock, member_id: int, key: str, code: str = " cny2024 "
) -> RedPacketResult:
    return await open_red_packet(
        OpenRedPacket(code, key), actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=clock
    )


async def test_a_red_packet_gives_its_points_once_per_member(clock: FixedClock) -> None:
    db = FakeDatabase()
    packet = await red_packet(db, 88, uses=10)
    member = await given_member(db)

    opened = await open_packet(db, clock, member.id, "k-1")

    assert opened == RedPacketResult(member.id, packet.id, 88)
    assert balance(db, member.id) == Balance(member.id, 88, 0, 0, 88, 0)
    [award] = db.tables.member_awards.values()
    assert award == MemberAward(award.id, member.id, packet.id, "RED_PACKET", 88, None, NOW)
    [posted] = award_entries(db)
    assert (posted.entry.member_id, posted.entry.origin_id, posted.at) == (member.id, award.id, NOW)
    assert posted.entry.description == "Red packet: red_packet bonus"
    assert [(lot.points, lot.remaining, lot.earned_at, lot.expires_at) for lot in lots_of(db, member.id)] == [
        (88, 88, NOW, EXPIRES)
    ]
    [coupon] = db.tables.coupons.values()
    assert (coupon.code, coupon.uses) == ("CNY2024", 1)
    assert db.tables.offer_usage[packet.id] == Usage(88, 0, 1)
    assert await open_packet(db, clock, member.id, "k-1") == opened  # a retry: once
    before = snapshot(db)

    again = await raised(open_packet(db, clock, member.id, "k-2"))

    assert (again.code, again.field) == (ErrorCode.LIMIT_REACHED, ("code",))
    assert again.message == "this red packet was already opened as often as it may be"
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_shared_code_opens_as_often_as_it_allows_and_no_more(clock: FixedClock) -> None:
    db = FakeDatabase()
    packet = await red_packet(db, 10, uses=2)
    members = [await given_member(db, f"CRM-{n}") for n in range(3)]

    await open_packet(db, clock, members[0].id, "k-0")
    await open_packet(db, clock, members[1].id, "k-1")
    before = snapshot(db)
    used_up = await raised(open_packet(db, clock, members[2].id, "k-2"))

    assert (used_up.code, used_up.field, used_up.message) == (
        ErrorCode.LIMIT_REACHED,
        ("code",),
        "this red packet's code is used up",
    )
    assert_unchanged_but_for_idempotency(db, before)  # its claim on the budget was rolled back
    assert db.tables.offer_usage[packet.id].uses == 2


async def test_a_red_packet_budget_gives_while_a_whole_packet_fits(clock: FixedClock) -> None:
    db = FakeDatabase()
    await red_packet(db, 50, uses=10, limits=Limits(budget_points=100))
    members = [await given_member(db, f"CRM-{n}") for n in range(3)]

    await open_packet(db, clock, members[0].id, "k-0")
    await open_packet(db, clock, members[1].id, "k-1")
    spent = await raised(open_packet(db, clock, members[2].id, "k-2"))

    assert (spent.code, spent.field, spent.message) == (
        ErrorCode.OFFER_BUDGET_EXHAUSTED,
        ("code",),
        "this red packet's budget is spent",
    )
    assert [balance(db, m.id).available for m in members] == [50, 50, 0]


async def test_a_red_packet_opens_from_its_first_instant_until_just_before_its_end(clock: FixedClock) -> None:
    db = FakeDatabase()
    await red_packet(db, 10, uses=10)
    members = [await given_member(db, f"CRM-{n}") for n in range(4)]

    answers: list[int | str] = []
    for member, at in zip(
        members,
        (STARTS - timedelta(microseconds=1), STARTS, ENDS - timedelta(microseconds=1), ENDS),
        strict=True,
    ):
        clock.at = at
        try:
            answers.append((await open_packet(db, clock, member.id, "k")).points)
        except Exception as error:  # the refusal is the answer here
            answers.append(str(error))

    closed = "this red packet is not open now"
    assert answers == [closed, 10, 10, closed]


async def test_unknown_codes_and_codes_of_other_offers_are_not_found_as_wrong_guesses(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    coupon_offer = await offer(db, Trigger.PURCHASE, 10, requires_coupon=True)
    await generate_coupons(
        coupon_offer.id,
        count=None,
        shared_code="SHOP",
        max_uses=5,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    member = await given_member(db)

    for code in ("NOPE", "SHOP"):
        refused = await raised(open_packet(db, clock, member.id, f"k-{code}", code))
        assert (refused.code, refused.field, refused.wrong_code) == (ErrorCode.NOT_FOUND, ("code",), True)
        assert refused.message == "no such red packet"
    assert balance(db, member.id).available == 0


async def test_a_paused_red_packet_and_a_locked_member_are_refused(clock: FixedClock) -> None:
    db = FakeDatabase()
    packet = await red_packet(db, 10, uses=10)
    locked = await given_member(db, "CRM-1", MemberStatus.LOCKED)
    member = await given_member(db, "CRM-2")

    assert (await raised(open_packet(db, clock, locked.id, "k-1"))).code is ErrorCode.MEMBER_LOCKED
    await change_offer_status(packet.id, OfferStatus.PAUSED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    paused = await raised(open_packet(db, clock, member.id, "k-2"))

    assert (paused.code, paused.field, paused.message) == (
        ErrorCode.VALIDATION,
        ("code",),
        "this red packet is not open now",
    )
    assert db.tables.member_awards == {}


async def test_a_single_use_packet_code_in_another_members_wallet_is_refused(clock: FixedClock) -> None:
    db = FakeDatabase()
    packet = await offer(db, Trigger.RED_PACKET, 10)
    [coupon] = await generate_coupons(
        packet.id, count=1, shared_code=None, max_uses=None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    owner = await given_member(db, "CRM-1")
    other = await given_member(db, "CRM-2")
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.offers.claim_coupon(coupon.code, owner.id, NOW)
        await seed.commit()

    theirs = await raised(open_packet(db, clock, other.id, "k-1", coupon.code))
    mine = await open_packet(db, clock, owner.id, "k-2", coupon.code.lower())

    assert (theirs.code, theirs.field, theirs.message) == (
        ErrorCode.VALIDATION,
        ("code",),
        "this red packet is another member's",
    )
    assert mine.points == 10


async def test_a_sign_up_offer_out_of_uses_is_skipped_when_its_claim_is_refused(clock: FixedClock) -> None:
    db = FakeDatabase()
    once = await offer(db, Trigger.SIGN_UP, 100, limits=Limits(max_uses=1))
    always = await offer(db, Trigger.SIGN_UP, 5)

    first = await enrol(db, clock, "CRM-1")
    second = await enrol(db, clock, "CRM-2")

    assert [balance(db, m.id).available for m in (first, second)] == [105, 5]
    assert [(a.member_id, a.offer_id) for a in db.tables.member_awards.values()] == [
        (first.id, once.id),
        (first.id, always.id),
        (second.id, always.id),
    ]


async def test_only_the_offers_with_referrer_points_pay_the_referrer(clock: FixedClock) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    referrer = await given_member(db, "CRM-1")
    await offer(db, Trigger.PURCHASE, 10)
    paying = await offer(db, Trigger.PURCHASE, 20, referrer_points=5)
    referred = await enrol(db, clock, "CRM-2", referrer.referral_code)

    bought = await buy(db, clock, merchant.id, referred.id, 10_000, "pos-1")

    assert bought.points_earned == 130
    assert [(a.offer_id, a.points) for a in db.tables.member_awards.values()] == [(paying.id, 5)]
    assert balance(db, referrer.id).available == 5


async def test_a_member_token_naming_no_member_opens_nothing(clock: FixedClock) -> None:
    db = FakeDatabase()
    await red_packet(db, 10, uses=10)

    refused = await raised(
        open_red_packet(
            OpenRedPacket("CNY2024", "k-1"),
            actor=Actor(Role.MEMBER, "m"),
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    assert (refused.code, refused.message) == (ErrorCode.NOT_FOUND, "the token names no member")
    assert db.tables.member_awards == {}


async def test_a_red_packet_code_is_at_most_40_characters(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)

    longest = await raised(open_packet(db, clock, member.id, "k-1", "C" * 40))
    too_long = await raised(open_packet(db, clock, member.id, "k-2", "C" * 41))

    assert (longest.code, too_long.code, too_long.field) == (
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ("code",),
    )


async def test_a_sign_up_offer_whose_last_use_a_concurrent_enrolment_took_is_skipped_and_the_next_given(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = FakeDatabase()
    once = await offer(db, Trigger.SIGN_UP, 100, limits=Limits(max_uses=1))
    always = await offer(db, Trigger.SIGN_UP, 5)
    uow = FakeUnitOfWork(db)
    usage = uow.offers.usage

    async def read_then_raced(*args: Any) -> Any:
        read = await usage(*args)
        db.tables.offer_usage[once.id] = Usage(100, 0, 1)  # another enrolment commits the last use
        return read

    monkeypatch.setattr(uow.offers, "usage", read_then_raced)

    member = await enroll_member(EnrollMember(external_ref="CRM-1"), actor=ADMIN, uow=uow, clock=clock)

    assert balance(db, member.id).available == 5
    assert [(a.member_id, a.offer_id) for a in db.tables.member_awards.values()] == [(member.id, always.id)]


async def test_a_sign_up_offer_once_per_member_welcomes_every_member(clock: FixedClock) -> None:
    db = FakeDatabase()
    welcome = await offer(db, Trigger.SIGN_UP, 100, limits=Limits(per_member=1))

    members = [await enrol(db, clock, f"CRM-{n}") for n in range(2)]

    assert [balance(db, m.id).available for m in members] == [100, 100]
    assert db.tables.offer_usage[welcome.id].uses == 2


async def test_the_sign_up_bonuses_given_add_up_to_the_total_returned(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    uow = FakeUnitOfWork(db)
    async with uow:
        assert await give_sign_up_bonuses(uow, member, db.programme, NOW) == 0  # no sign-up offer
    await offer(db, Trigger.SIGN_UP, 100)
    await offer(db, Trigger.SIGN_UP, 7)
    await offer(db, Trigger.SIGN_UP, 3)

    async with uow:
        assert await give_sign_up_bonuses(uow, member, db.programme, NOW) == 110
