"""What an offer in me.eligibleOffers would give the member on its typical basket."""

from __future__ import annotations

import strawberry

from api.types.activity import Money
from domain import offers as do
from domain.money import Money as DomainMoney


@strawberry.type(
    description="What an offer would give the member (the MEMBER itself and ADMIN, in me.eligibleOffers): "
    "for a purchase offer, what postPurchase would award it on the member's typical basket in the "
    "offer's categories (its mean purchase there over the last 365 days, else the programme's mean "
    "over its latest purchases, raised to the offer's minimum spend); for a red packet, or a fixed "
    "bonus with no basket to go by, its points."
)
class OfferEstimate:
    basket: Money | None = strawberry.field(
        description="The purchase amount estimated on; null without one (a red packet, no basket to go by)."
    )
    points: int = strawberry.field(description="The offer's points on that basket.")
    discount: Money | None = strawberry.field(
        description="The amount off that basket; null without a basket."
    )
    cashback: Money | None = strawberry.field(
        description="The cashback credited on that basket; null without a basket."
    )
    worth_points: int = strawberry.field(
        description="All of it in points, money counted at the basket's base earn rate: the list's order."
    )

    @classmethod
    def from_domain(cls, e: do.Estimate) -> OfferEstimate:
        basket = e.basket
        if basket is None:
            return cls(basket=None, points=e.points, discount=None, cashback=None, worth_points=e.worth)
        return cls(
            basket=_money(basket),
            points=e.points,
            discount=_money(DomainMoney(e.discount_minor, basket.currency)),
            cashback=_money(DomainMoney(e.cashback_minor, basket.currency)),
            worth_points=e.worth,
        )


def _money(m: DomainMoney) -> Money:
    return Money(amount_minor=m.amount_minor, currency=m.currency)
