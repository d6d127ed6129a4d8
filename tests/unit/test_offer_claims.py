"""An award's claim on its offer's limits and the budget events it tells, over the fakes: each
crossing is told by the award that made it, judged on the counters the claim returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock
from domain.events import EventType
from domain.money import Money
from domain.offers import FunderKind, FundingShare, Limits, Mechanic, Offer, SkipReason, Usage, Window
from domain.services.offer_claims import budget_crossed, claim_award
from domain.services.offers import create_offer
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import ADMIN

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def offer(limits: Limits) -> Offer:
    return Offer(
        7,
        1,
        "Spring bonus",
        Mechanic.BONUS_POINTS,
        window=Window(AT - timedelta(days=1), AT + timedelta(days=9)),
        funding=(FundingShare(FunderKind.PROGRAMME, None, 100),),
        limits=limits,
        points=100,
    )


def told(events: list[object]) -> list[tuple[str, dict[str, object]]]:
    return [(e.type.value, e.payload) for e in events]  # type: ignore[attr-defined]  # events only


def test_an_award_tells_each_threshold_it_crosses_in_points_and_in_money() -> None:
    capped = offer(Limits(budget_points=1_000, budget_money=Money(500, "CNY")))

    crossed = budget_crossed(capped, Usage(800, 500, 3), 100, 200, AT)

    assert told(crossed) == [
        ("budget.warning", {"offerId": 7, "unit": "POINTS", "budget": 1_000, "used": 800, "percent": 80}),
        ("budget.warning", {"offerId": 7, "unit": "MONEY_MINOR", "budget": 500, "used": 500, "percent": 80}),
        ("budget.exhausted", {"offerId": 7, "unit": "MONEY_MINOR", "budget": 500, "used": 500}),
    ]
    assert {e.member_id for e in crossed} == {None}
    assert {e.occurred_at for e in crossed} == {AT}


def test_an_award_that_crosses_nothing_tells_nothing() -> None:
    capped = offer(Limits(budget_points=1_000, budget_money=Money(500, "CNY")))

    assert budget_crossed(capped, Usage(900, 100, 5), 100, 100, AT) == []  # warned before, not spent
    assert budget_crossed(capped, Usage(799, 399, 2), 100, 100, AT) == []  # just under both warnings
    assert budget_crossed(offer(Limits()), Usage(10**9, 10**9, 9), 100, 100, AT) == []  # no budgets


async def test_a_claim_tells_what_it_crossed_and_a_refused_one_tells_nothing() -> None:
    db = FakeDatabase()
    draft = offer(Limits(budget_points=250))
    stored = await create_offer(draft, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(AT))

    async with (uow := FakeUnitOfWork(db)):
        first = await claim_award(uow, stored, 1, AT, 100, 0, AT)
        second = await claim_award(uow, stored, 2, AT, 100, 0, AT)  # 200: past 80% (200)
        third = await claim_award(uow, stored, 3, AT, 100, 0, AT)  # 300 would pass the budget
        await uow.commit()

    assert (first, second, third) == (None, None, SkipReason.BUDGET_EXHAUSTED)
    assert told(db.tables.outbox) == [
        (
            "budget.warning",
            {"offerId": stored.id, "unit": "POINTS", "budget": 250, "used": 200, "percent": 80},
        )
    ]
    assert db.tables.offer_usage[stored.id] == Usage(200, 0, 2)
    assert [e.type for e in db.tables.outbox] == [EventType.BUDGET_WARNING]
