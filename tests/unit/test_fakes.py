"""The fakes must behave like the real unit of work and ledger, or the service tests prove nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import AlreadyExists, InsufficientPoints
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting, transfer
from domain.members import Balance, Contact, MemberStatus, Profile
from domain.merchants import Channel
from domain.money import Money
from domain.offers import Limits, Mechanic, Offer, OfferStatus, SkipReason, Usage, Window
from domain.posting import UnlockedMember
from domain.refunds import PointsToReverse
from domain.rewards import RedemptionStatus
from domain.services.posting import post_entry
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

AT = datetime(2024, 1, 1, tzinfo=UTC)


async def add_member(uow: FakeUnitOfWork, ref: str) -> int:
    member = await uow.members.add(
        external_ref=ref, profile=Profile(), contact=Contact(), referral_code=ref, referred_by=None, at=AT
    )
    return member.id


def earn(member_id: int, points: int) -> JournalEntry:
    return transfer(
        kind=EntryKind.EARN,
        member_id=member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=1,
        source=Account(AccountKind.ISSUANCE),
        destination=Account.available(member_id),
        points=points,
        description="earn",
    )


async def test_a_block_that_does_not_commit_is_rolled_back() -> None:
    uow = FakeUnitOfWork()

    async with uow:
        await add_member(uow, "A")

    assert uow.db.tables.members == {}
    assert uow.commits == 0


async def test_a_block_left_by_an_exception_is_rolled_back() -> None:
    uow = FakeUnitOfWork()

    async def fail_inside() -> None:
        async with uow:
            await add_member(uow, "A")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_inside()

    assert uow.db.tables.members == {}


async def test_the_unit_of_work_is_re_enterable_and_keeps_what_was_committed() -> None:
    uow = FakeUnitOfWork()

    async with uow:
        await add_member(uow, "A")
        await uow.commit()
        await add_member(uow, "B")  # after the commit: a new transaction, never committed
    async with uow:
        await add_member(uow, "C")
        await uow.commit()

    assert [m.external_ref for m in uow.db.tables.members.values()] == ["A", "C"]
    assert uow.commits == 2
    assert uow.committed


async def test_two_units_of_work_over_one_database_see_each_others_commits() -> None:
    db = FakeDatabase()
    writer, reader = FakeUnitOfWork(db), FakeUnitOfWork(db)
    async with writer:
        member_id = await add_member(writer, "A")
        await writer.commit()

    async with reader:
        assert await reader.members.get(member_id) is not None


async def test_posting_applies_member_deltas_and_lifetime_counters() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        member_id = await add_member(uow, "A")
        first = await post_entry(uow, earn(member_id, 100), AT)
        second = await post_entry(
            uow,
            transfer(
                kind=EntryKind.REDEEM,
                member_id=member_id,
                origin_type=OriginType.REDEMPTION,
                origin_id=1,
                source=Account.available(member_id),
                destination=Account(AccountKind.REDEMPTION),
                points=30,
                description="redeem",
            ),
            AT,
        )
        await uow.commit()

    assert first != second
    assert list(uow.db.tables.journal) == [first, second]
    assert await uow.ledger.balance(member_id) == Balance(member_id, 70, 0, 0, 100, 30)


async def test_posting_that_would_take_any_member_account_below_zero_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        rich = await add_member(uow, "A")
        poor = await add_member(uow, "B")
        await post_entry(uow, earn(rich, 100), AT)
        await post_entry(uow, earn(poor, 10), AT)
        await uow.commit()
    before = (dict(uow.db.tables.balances), dict(uow.db.tables.journal))

    # an entry that is fine for the first member but takes the second one's held account below zero
    entry = JournalEntry(
        kind=EntryKind.REDEEM,
        member_id=rich,
        origin_type=OriginType.REDEMPTION,
        origin_id=1,
        description="two members",
        postings=(
            Posting(Account.available(rich), -50),
            Posting(Account(AccountKind.MEMBER_HELD, poor), -1),
            Posting(Account(AccountKind.REDEMPTION), 51),
        ),
    )
    async with uow:
        with pytest.raises(InsufficientPoints):
            await post_entry(uow, entry, AT)
        # refused inside the transaction: nothing was applied, even before the rollback
        assert (dict(uow.db.tables.balances), dict(uow.db.tables.journal)) == before


async def test_posting_to_a_member_without_a_balance_row_is_a_programming_error() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        with pytest.raises(UnlockedMember):
            await post_entry(uow, earn(42, 10), AT)
        assert uow.db.tables.journal == {}


async def test_a_stored_idempotency_response_is_a_json_round_trip() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        assert (
            await uow.idempotency.record("merchant:1", "k", "h1", {"error": {"field": ("a", "b")}}, AT)
            is None
        )
        await uow.commit()
    async with uow:
        stored = await uow.idempotency.record("merchant:1", "k", "h2", {"result": {}}, AT)

    assert stored is not None
    assert (stored.request_hash, stored.response) == ("h1", {"error": {"field": ["a", "b"]}})


# --- conditional updates refuse as their SQL statements do --------------------------------------------


async def add_purchase(uow: FakeUnitOfWork, member_id: int, minor: int = 10_000, points: int = 100) -> int:
    purchase = await uow.purchases.add(
        member_id=member_id,
        merchant_id=1,
        amount=Money(minor, "CNY"),
        channel=Channel.OFFLINE,
        occurred_at=AT,
        reference=None,
        points_earned=points,
        points_pending=0,
        at=AT,
    )
    return purchase.id


async def test_a_refund_is_taken_only_within_the_purchase_and_as_read() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        member_id = await add_member(uow, "A")
        purchase = await uow.refunds.purchase(await add_purchase(uow, member_id))
        assert purchase is not None

        assert not await uow.refunds.take(purchase, 10_001, PointsToReverse(100, 100, 0))
        assert await uow.refunds.take(purchase, 4_000, PointsToReverse(40, 40, 0))
        # `purchase` is now stale: the same refund again is refused, changing nothing
        assert not await uow.refunds.take(purchase, 4_000, PointsToReverse(40, 40, 0))
        current = await uow.refunds.purchase(purchase.id)

    assert current is not None
    assert (current.refunded_minor, current.points_refunded) == (4_000, 40)


async def test_a_redemption_moves_on_once_and_returns_no_more_than_was_captured() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        member_id = await add_member(uow, "A")
        hold = await uow.redemptions.add(
            member_id=member_id, reward_id=None, points=50, status=RedemptionStatus.AUTHORIZED, at=AT
        )
        assert not await uow.redemptions.add_returned(hold.id, 1, 0)  # nothing captured yet
        move = {"from_status": RedemptionStatus.AUTHORIZED, "to_status": RedemptionStatus.CAPTURED, "at": AT}
        assert await uow.redemptions.finish(hold.id, **move, captured_points=40, purchase_id=7)  # type: ignore[arg-type]
        assert not await uow.redemptions.finish(hold.id, **move)  # type: ignore[arg-type]
        assert not await uow.redemptions.finish(404, **move)  # type: ignore[arg-type]

        assert not await uow.redemptions.add_returned(hold.id, 41, 0)
        assert await uow.redemptions.add_returned(hold.id, 30, 0)
        assert not await uow.redemptions.add_returned(hold.id, 10, 0)  # not as read
        assert await uow.redemptions.add_returned(hold.id, 10, 30)
        assert [r.id for r in await uow.redemptions.paid_for(7)] == [hold.id]
        assert await uow.redemptions.paid_for(8) == []


async def test_a_coupon_is_claimed_by_one_member_and_used_no_more_than_it_allows() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        mine, theirs = await add_member(uow, "A"), await add_member(uow, "B")
        [single] = await uow.offers.add_coupons(1, ["ONE"], 1, AT)
        [shared] = await uow.offers.add_coupons(1, ["SHARED"], 2, AT)
        with pytest.raises(AlreadyExists):
            await uow.offers.add_coupons(1, ["NEW", "ONE"], 1, AT)
        assert await uow.offers.coupon("NEW") is None  # all or nothing

        assert await uow.offers.claim_coupon("SHARED", mine, AT) is None  # a shared code stays shared
        assert await uow.offers.claim_coupon("ONE", mine, AT) == replace(single, member_id=mine)
        assert await uow.offers.claim_coupon("ONE", theirs, AT) is None
        assert not await uow.offers.use_coupon(single.id, theirs)
        assert await uow.offers.use_coupon(single.id, mine)
        assert not await uow.offers.use_coupon(single.id, mine)
        assert [await uow.offers.use_coupon(shared.id, m) for m in (mine, theirs, mine)] == [
            True,
            True,
            False,
        ]
        assert [c.code for c in await uow.offers.wallet(mine)] == ["ONE"]


async def test_dormancy_marks_idle_active_members_up_to_the_limit_and_activity_wakes_them() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        ids = [await add_member(uow, ref) for ref in ("A", "B", "C", "D")]  # all enrolled at AT
        await uow.members.set_status(ids[3], MemberStatus.LOCKED, "x")
        later = AT + timedelta(days=1)
        await uow.members.record_activity(ids[2], later)

        assert await uow.members.mark_dormant(AT - timedelta(microseconds=1), later, 10) == []
        assert len(await uow.members.mark_dormant(AT, later, 1)) == 1
        assert len(await uow.members.mark_dormant(AT, later, 10)) == 1
        assert await uow.members.mark_dormant(AT, later, 10) == []
        assert [uow.db.tables.members[i].dormant_since for i in ids] == [later, later, None, None]

        await uow.members.record_activity(ids[0], later)
        awake = await uow.members.get(ids[0])
        assert awake is not None
        assert (awake.dormant_since, awake.last_activity_at) == (None, later)


async def test_unique_columns_refuse_a_second_row() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await add_member(uow, "A")
        with pytest.raises(AlreadyExists):
            await add_member(uow, "A")
        await uow.tiers.add(Tier(0, "GOLD", "Gold", 2), AT)
        for taken, field in (
            (Tier(0, "GOLD", "Other", 3), ("code",)),
            (Tier(0, "SILVER", "Silver", 2), ("rank",)),
        ):
            with pytest.raises(AlreadyExists) as info:
                await uow.tiers.add(taken, AT)
            assert info.value.field == field


async def test_a_programme_change_is_rolled_back_with_the_rest_and_unknown_settings_are_refused() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.programme.update({"pending_days": 9})
        assert (await uow.programme.get()).pending_days == 9
        with pytest.raises(ValueError, match="name"):
            await uow.programme.update({"name": "Other"})

    assert uow.db.programme.pending_days == 0


async def test_an_offer_claim_checks_the_member_cap_then_the_stored_offer() -> None:
    uow = FakeUnitOfWork()
    window = Window(AT, AT + timedelta(days=1))
    async with uow:
        offer = await uow.offers.add(
            Offer(
                0,
                0,
                "o",
                Mechanic.BONUS_POINTS,
                window,
                (),
                points=5,
                limits=Limits(max_uses=2, per_member=1),
            ),
            AT,
        )
        assert await uow.offers.claim(offer, 1, AT, 5, 0) == Usage(5, 0, 1)
        assert await uow.offers.claim(offer, 1, AT, 5, 0) is SkipReason.MEMBER_LIMIT_REACHED
        assert await uow.offers.claim(offer, 2, AT, 5, 0) == Usage(10, 0, 2)
        assert await uow.offers.claim(offer, 3, AT, 5, 0) is SkipReason.GLOBAL_LIMIT_REACHED
        await uow.offers.set_status(offer.id, OfferStatus.PAUSED, AT)
        assert await uow.offers.claim(offer, 4, AT, 5, 0) is SkipReason.NOT_ACTIVE
        assert await uow.offers.usage_of(offer.id) == Usage(10, 0, 2)
