"""An award counted against its offer's budget and caps, with the budget events it crosses."""

from __future__ import annotations

from datetime import datetime

from domain import events
from domain.offers import Offer, SkipReason, Usage
from domain.ports import UnitOfWork


async def claim_award(
    uow: UnitOfWork,
    offer: Offer,
    member_id: int,
    period_start: datetime,
    points: int,
    money_minor: int,
    at: datetime,
) -> SkipReason | None:
    """Count one award against the offer's budget and caps (`uow.offers.claim`), and tell the budget
    warning and exhaustion it crosses; the limit that refuses it, or None. The claim returns the
    offer's counters with this award, read under the row lock it holds to commit, so each crossing
    is told once, by the award that made it, however many purchases race."""
    claimed = await uow.offers.claim(offer, member_id, period_start, points, money_minor)
    if isinstance(claimed, SkipReason):
        return claimed
    await uow.outbox.add(*budget_crossed(offer, claimed, points, money_minor, at))
    return None


def budget_crossed(
    offer: Offer, after: Usage, points: int, money_minor: int, at: datetime
) -> list[events.Event]:
    """The budget warning and exhaustion an award of `points` and `money_minor` crossed, given the
    offer's counters with it."""
    budget_money = offer.limits.budget_money
    return [
        *events.budget_events(
            offer_id=offer.id,
            budget=offer.limits.budget_points,
            before=after.points - points,
            after=after.points,
            unit="POINTS",
            at=at,
        ),
        *events.budget_events(
            offer_id=offer.id,
            budget=None if budget_money is None else budget_money.amount_minor,
            before=after.money_minor - money_minor,
            after=after.money_minor,
            unit="MONEY_MINOR",
            at=at,
        ),
    ]
