"""`me.recommendedOffers`: the offers the member can use now (`usable_offers`, the wallet's list and
estimates), ranked for it by domain/recommendations.py from its profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.clock import Clock
from domain.merchants import Channel, Merchant, MerchantCategory
from domain.offers import Offer, categories_of
from domain.ports import OfferWalletReader, UnitOfWork
from domain.profiles import DayActivity, profile_currency, utc_day
from domain.programme import Programme
from domain.recommendations import Candidate, Recommendation, budget_left_ppm, recommend, taste
from domain.services.wallet_offers import UsableOffer, usable_offers
from domain.tiers import Tier


@dataclass(frozen=True, slots=True)
class Recommended:
    line: UsableOffer
    recommendation: Recommendation


def applies_at(offer: Offer, merchant: Merchant, channel: Channel | None) -> bool:
    """Whether the offer could apply to a purchase at this merchant (through this channel)."""
    rules = offer.eligibility
    return (
        (not rules.merchant_ids or merchant.id in rules.merchant_ids)
        and (not rules.categories or merchant.category in rules.categories)
        and (not rules.partner_ids or merchant.partner_id in rules.partner_ids)
        and (channel is None or merchant.accepts(channel))
        and (not rules.channels or any(merchant.accepts(c) for c in rules.channels))
    )


async def recommended_offers(
    member_id: int,
    *,
    channel: Channel | None,
    category: MerchantCategory | None,
    merchant: Merchant | None,
    uow: UnitOfWork,
    reader: OfferWalletReader,
    clock: Clock,
    activity: Sequence[DayActivity],
    programme: Programme,
    ladder: Sequence[Tier],
    first: int | None = None,
) -> list[Recommended]:
    """Best for the member first, the `first` of them when given (every offer is ranked; only those
    are explained). With a merchant, only the offers that could apply there, estimated on the
    member's basket in the merchant's category."""
    if merchant is not None and category is None:
        category = merchant.category
    lines = await usable_offers(
        member_id, channel=channel, category=category, uow=uow, reader=reader, clock=clock
    )
    if merchant is not None:
        lines = [line for line in lines if applies_at(line.offer, merchant, channel)]
    if not lines:
        return []
    named = {i for line in lines for i in line.offer.eligibility.merchant_ids}
    merchants = {m.id: m for m in await reader.merchants(named)} if named else {}
    if category is not None:  # an offer only at merchants of another category is not for this one
        lines = [line for line in lines if _in_category(line.offer, merchants, category)]
    if not lines:
        return []
    now = clock.now()
    currency = profile_currency(programme, ladder)
    by_id = {line.offer.id: line for line in lines}
    ranked = recommend(
        (_candidate(line, merchants, currency) for line in lines),
        taste(activity, currency=currency, today=utc_day(now)),
        now=now,
        point_values=programme.point_values,
        merchant_names={m.id: m.name for m in merchants.values()},
        first=first,
    )
    return [Recommended(by_id[r.offer_id], r) for r in ranked]


def _candidate(line: UsableOffer, merchants: dict[int, Merchant], currency: str) -> Candidate:
    offer, gives = line.offer, line.estimate
    limits = offer.limits
    money_budget = None if limits.budget_money is None else limits.budget_money.amount_minor
    basket = None if gives is None else gives.basket
    return Candidate(
        offer_id=offer.id,
        ends_at=offer.window.ends_at,
        categories=categories_of(offer, merchants),
        merchant_ids=offer.eligibility.merchant_ids,
        currency=currency if basket is None else basket.currency,
        basket_minor=None if basket is None else basket.amount_minor,
        money_minor=0 if gives is None else gives.discount_minor + gives.cashback_minor,
        points=0 if gives is None else gives.points,
        budget_left_ppm=budget_left_ppm(
            [
                (limits.budget_points, line.usage.points),
                (money_budget, line.usage.money_minor),
            ]
        ),
    )


def _in_category(offer: Offer, merchants: dict[int, Merchant], category: MerchantCategory) -> bool:
    where = categories_of(offer, merchants)
    return not where or category in where
