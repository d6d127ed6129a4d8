"""Offers as stored, on both databases: a definition survives the round trip exactly, status and
funders are queryable, and claims count usage per member and cap period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.members import IncomeBand
from domain.merchants import Channel, MerchantCategory, MerchantChannel
from domain.money import Money
from domain.offers import (
    CapPeriod,
    Eligibility,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    Segment,
    SkipReason,
    Usage,
    Window,
)
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

FESTIVAL = Offer(
    id=0,
    version=0,
    name="Spring Festival: 20% off, up to 50",
    mechanic=Mechanic.PERCENT_DISCOUNT,
    window=Window(
        AT,
        AT + timedelta(days=14),
        days_of_week=frozenset({6, 7}),
        from_hour=10,
        to_hour=22,
        time_zone="Asia/Shanghai",
    ),
    funding=(FundingShare(FunderKind.PARTNER, 4, 70), FundingShare(FunderKind.PROGRAMME, None, 30)),
    eligibility=Eligibility(
        merchant_ids=frozenset({1, 2}),
        categories=frozenset({MerchantCategory.DINING}),
        partner_ids=frozenset({4}),
        channels=frozenset({Channel.OFFLINE}),
        minimum_spend=Money(10_000, "CNY"),
        new_members_within_days=30,
        segment=Segment(
            regions=frozenset({"Shanghai"}),
            income_bands=frozenset({IncomeBand.HIGH}),
            any_tags=frozenset({"student"}),
            born_from=1980,
            born_to=2000,
        ),
    ),
    limits=Limits(
        budget_points=None,
        budget_money=Money(1_000_000, "CNY"),
        max_uses=1_000,
        per_member=2,
        per_member_period=CapPeriod.WEEK,
    ),
    percent=Decimal("20"),
    cap=Money(5_000, "CNY"),
    exclusive_group="festival",
    priority=3,
)


def uow_for(backend: Backend) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(backend.database.write_engine)


async def live_bonus(backend: Backend, *, points: int, limits: Limits) -> None:
    """FESTIVAL's funding as a bonus that applies to any purchase today."""
    now = datetime.now(UTC)
    async with uow_for(backend) as uow:
        await uow.offers.add(
            replace(
                FESTIVAL,
                mechanic=Mechanic.BONUS_POINTS,
                points=points,
                window=Window(now - timedelta(days=1), now + timedelta(days=1)),
                eligibility=Eligibility(),
                limits=limits,
            ),
            now,
        )
        await uow.commit()


async def test_an_offer_is_stored_and_read_back_exactly(backend: Backend) -> None:
    async with uow_for(backend) as uow:
        stored = await uow.offers.add(FESTIVAL, AT)
        await uow.commit()
    async with uow_for(backend) as uow:
        read = await uow.offers.get(stored.id)
        live = await uow.offers.live()
        funded = await uow.offers.funded_by(FunderKind.PARTNER, 4)

    assert stored == replace(FESTIVAL, id=stored.id, version=1)
    assert read == stored
    assert live == [stored]
    assert funded == [stored.id]


async def test_a_paused_offer_is_not_live_and_refuses_claims(backend: Backend, given: Scenario) -> None:
    member = await given.member()
    async with uow_for(backend) as uow:
        stored = await uow.offers.add(FESTIVAL, AT)
        await uow.offers.set_status(stored.id, OfferStatus.PAUSED, AT)
        await uow.commit()
    async with uow_for(backend) as uow:
        live = await uow.offers.live()
        refused = await uow.offers.claim(stored, member.raw, AT, 0, 1_000)

    assert live == []
    assert refused is SkipReason.NOT_ACTIVE


@pytest.mark.partial_ledger  # claims alone: counters move without the awards a purchase records
async def test_claims_count_per_member_and_cap_period(backend: Backend, given: Scenario) -> None:
    member = await given.member()
    this_week, next_week = AT, AT + timedelta(days=7)
    async with uow_for(backend) as uow:
        offer = await uow.offers.add(FESTIVAL, AT)
        outcomes = [await uow.offers.claim(offer, member.raw, this_week, 0, 1_000) for _ in range(3)]
        outcomes.append(await uow.offers.claim(offer, member.raw, next_week, 0, 500))
        usage = await uow.offers.usage([offer.id], member.raw, {offer.id: this_week})
        await uow.commit()

    assert outcomes == [
        Usage(0, 1_000, 1),
        Usage(0, 2_000, 2),
        SkipReason.MEMBER_LIMIT_REACHED,
        Usage(0, 2_500, 3),
    ]
    assert usage == {offer.id: Usage(points=0, money_minor=2_500, uses=3, member_uses=2)}


async def test_creating_an_offer_moves_the_catalogue_on(backend: Backend) -> None:
    async with uow_for(backend) as uow:
        await uow.merchants.add(
            name="Tea House",
            category=MerchantCategory.DINING,
            channel=MerchantChannel.BOTH,
            partner_id=None,
            earn_rate_override=None,
            at=AT,
        )
        await uow.commit()
    async with backend.database.read_engine.connect() as conn:
        before = (await conn.exec_driver_sql("SELECT catalogue_version FROM programme")).scalar_one()
    async with uow_for(backend) as uow:
        await uow.offers.add(FESTIVAL, AT)
        await uow.commit()
    async with backend.database.read_engine.connect() as conn:
        after = (await conn.exec_driver_sql("SELECT catalogue_version FROM programme")).scalar_one()

    assert after == before + 1


async def test_a_purchase_gets_a_live_offer_and_the_ledger_verifies(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await live_bonus(backend, points=88, limits=Limits(budget_points=100))

    first = await given.purchase(merchant, member, 1_000, key="k-1")
    second = await given.purchase(merchant, member, 1_000, key="k-2")

    assert first["purchase"]["pointsEarned"] == 10 + 88
    assert second["purchase"]["pointsEarned"] == 10  # 88 more would pass the budget of 100
    assert (await given.balance(member))["available"] == 108
    assert await check_ledger(backend.database.read_engine) == []
    async with backend.database.read_engine.connect() as conn:
        funding = (
            await conn.exec_driver_sql(
                "SELECT funder_kind, funder_id, points FROM award_funding ORDER BY funder_kind"
            )
        ).all()
    assert [tuple(row) for row in funding] == [("PARTNER", 4, 62), ("PROGRAMME", 0, 26)]


@pytest.mark.partial_ledger  # corrupts the counters on purpose
async def test_verify_ledger_finds_offer_counters_or_funding_that_do_not_match_the_awards(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await live_bonus(backend, points=20, limits=Limits())
    await given.purchase(merchant, member, 1_000, key="k-1")
    assert await check_ledger(backend.database.read_engine) == []

    async with backend.database.write_engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE offers SET points_used = points_used + 1")
        await conn.exec_driver_sql(
            "UPDATE award_funding SET points = points + 1 WHERE funder_kind = 'PARTNER'"
        )
        # A refund that gave back more than the award gave.
        await conn.exec_driver_sql("UPDATE purchase_awards SET refunded_points = points + 1")

    kinds = sorted(v.kind.value for v in await check_ledger(backend.database.read_engine))
    # The partner's funding row no longer matches the EARN line that took its points either.
    assert kinds == [
        "AWARD_FUNDING_MISMATCH",
        "AWARD_REFUND_OUT_OF_RANGE",
        "FUNDING_JOURNAL_MISMATCH",
        "OFFER_USAGE_MISMATCH",
    ]
