"""`me.eligibleOffers`: the offers a member can use now, each with why it applies and what it would
give on the member's typical basket, best for the member first (`domain.offers.wallet`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.earning import earn_rate
from domain.members import Member, MemberStatus
from domain.merchants import Channel, Merchant, MerchantCategory
from domain.money import Money
from domain.offers import (
    Bought,
    Estimate,
    Names,
    Offer,
    PurchaseFacts,
    Spend,
    Trigger,
    Unusable,
    Usage,
    Wallet,
    cap_period_start,
    categories_of,
    channel_for,
    currency_of,
    estimate,
    first_purchase_ids,
    mean_amount,
    ranking,
    reasons,
    refusal,
    stand_in_merchant,
    typical_amount,
    uses_left,
)
from domain.offers.wallet import PROGRAMME_SAMPLE, TYPICAL_DAYS
from domain.ports import OfferWalletReader, UnitOfWork
from domain.programme import Programme
from domain.services.common import existing_member
from domain.services.purchases import segments_if_asked
from domain.tiers import Tier, earn_multiplier, effective_tier


@dataclass(frozen=True, slots=True)
class UsableOffer:
    """One line of the wallet's list."""

    offer: Offer
    uses_left: int | None  # this cap period; None without a per-member limit
    reasons: tuple[str, ...]
    estimate: Estimate | None  # None: no basket to estimate on (nobody bought there, no minimum spend)
    usage: Usage = field(default_factory=Usage)  # what the offer has given so far, against its budget

    @property
    def rank(self) -> tuple[int, datetime, int]:
        return ranking(self.offer, 0 if self.estimate is None else self.estimate.worth)


@dataclass(frozen=True, slots=True)
class _Setting:
    """What every estimate of one listing shares."""

    wallet: Wallet
    programme: Programme
    tier: Tier | None
    merchants: Mapping[int, Merchant]
    mine: list[Spend]  # the member's purchases over the last TYPICAL_DAYS
    channel: Channel | None
    category: MerchantCategory | None


async def usable_offers(
    member_id: int,
    *,
    channel: Channel | None,
    category: MerchantCategory | None,
    uow: UnitOfWork,
    reader: OfferWalletReader,
    clock: Clock,
) -> list[UsableOffer]:
    """The offers this member can use now (narrowed to a channel or category when asked), best for
    it first, then soonest ending, then by id. Reads are per listing, never per offer."""
    now = clock.now()
    async with uow:
        member = await existing_member(uow, member_id)
        if member.status is not MemberStatus.ACTIVE:
            return []
        ladder = await uow.tiers.ladder()
        tier = effective_tier(member, ladder)
        coupons = frozenset(c.offer_id for c in await uow.offers.wallet(member.id) if not c.used_up)
        live = await uow.offers.live()
        segments = await segments_if_asked(uow, member.id, live)
        wallet = Wallet(member, now, None if tier is None else tier.id, {}, coupons, segment_ids=segments)
        # Usage and past purchases are read only for the offers the rest leaves in.
        offers = [o for o in live if refusal(o, wallet, channel, category) is None]
        periods = {o.id: cap_period_start(o, now) for o in offers if o.limits.per_member is not None}
        usage = await uow.offers.usage([o.id for o in offers], member.id, periods) if offers else {}
        programme = await uow.programme.get()
    bought = await _bought(reader, member, offers)
    wallet = Wallet(member, now, wallet.tier_id, usage, coupons, bought, segments)
    offers = [o for o in offers if refusal(o, wallet, channel, category) is None]
    named = {i for o in offers for i in o.eligibility.merchant_ids}
    merchants = {m.id: m for m in await reader.merchants(named)} if named else {}
    brands = {i for o in offers for i in o.eligibility.partner_ids}
    partner_names = await reader.partner_names(brands) if brands else {}
    purchase_offers = any(o.trigger is Trigger.PURCHASE for o in offers)
    mine = await reader.spending(member.id, now - timedelta(days=TYPICAL_DAYS)) if purchase_offers else []
    names = Names(
        merchants={m.id: m.name for m in merchants.values()},
        partners=partner_names,
        tiers={t.id: t.name for t in ladder},
    )
    setting = _Setting(wallet, programme, tier, merchants, mine, channel, category)
    programme_spend: list[Spend] | None = None
    listed = []
    for offer in offers:
        if programme_spend is None and _needs_programme_spend(offer, setting):
            # Read once, and only when an offer finds no purchase of the member's to go by.
            programme_spend = await reader.recent_spending(PROGRAMME_SAMPLE)
        gives = _estimate(offer, setting, programme_spend or [])
        if gives is Unusable.SPENT:
            continue
        listed.append(
            UsableOffer(
                offer,
                uses_left(offer, wallet.usage_of(offer)),
                tuple(reasons(offer, names)),
                gives if isinstance(gives, Estimate) else None,
                wallet.usage_of(offer),
            )
        )
    return sorted(listed, key=lambda line: line.rank)


async def _bought(reader: OfferWalletReader, member: Member, offers: Collection[Offer]) -> Bought:
    asking = [o for o in offers if o.eligibility.first_purchase is not None]
    if not asking:
        return Bought()
    merchant_ids, partner_ids = first_purchase_ids(asking)
    return await reader.bought(member.id, merchant_ids, partner_ids)


def _basket_terms(
    offer: Offer, setting: _Setting, programme_spend: list[Spend]
) -> tuple[frozenset[MerchantCategory], str]:
    """The categories and currency of the typical basket for this offer: the currency of its money
    terms, else the one most bought in there by the member, else by the programme."""
    categories = categories_of(offer, setting.merchants)
    if setting.category is not None:
        categories = frozenset({setting.category})

    def there(spends: list[Spend]) -> list[Spend]:
        return [s for s in spends if not categories or s.category in categories]

    bought = there(setting.mine) or there(programme_spend)
    return categories, currency_of(offer, bought, min(setting.programme.currencies))


def _needs_programme_spend(offer: Offer, setting: _Setting) -> bool:
    if offer.trigger is not Trigger.PURCHASE:
        return False
    categories, currency = _basket_terms(offer, setting, [])
    return mean_amount(setting.mine, categories, currency) is None


def _estimate(offer: Offer, setting: _Setting, programme_spend: list[Spend]) -> Estimate | Unusable | None:
    """What the offer would give; None when there is nothing to go by."""
    facts = _typical_purchase(offer, setting, programme_spend) if offer.trigger is Trigger.PURCHASE else None
    return estimate(offer, setting.wallet, facts)


def _typical_purchase(offer: Offer, setting: _Setting, programme_spend: list[Spend]) -> PurchaseFacts | None:
    """The member's typical purchase where the offer applies, at one of its merchants (or a stand-in
    of its category), as postPurchase would present it; None when there is no basket to go by."""
    rules = offer.eligibility
    categories, currency = _basket_terms(offer, setting, programme_spend)
    if currency not in setting.programme.currencies:
        return None
    amount = typical_amount(offer, categories, currency, setting.mine, programme_spend)
    if amount is None:
        return None
    merchant = next(
        (
            m
            for i in sorted(rules.merchant_ids)
            if (m := setting.merchants.get(i)) is not None
            and (setting.channel is None or m.accepts(setting.channel))
            and (not rules.categories or m.category in rules.categories)
            and (not rules.partner_ids or m.partner_id in rules.partner_ids)
        ),
        None,
    )
    if merchant is None:
        merchant = stand_in_merchant(offer, _category(categories, setting.mine), setting.wallet.at)
    return PurchaseFacts(
        setting.wallet.member,
        merchant,
        Money(amount, currency),
        channel_for(offer, merchant, setting.channel),
        setting.wallet.at,
        earn_rate(setting.programme, merchant, currency, earn_multiplier(setting.tier)),
    )


def _category(categories: frozenset[MerchantCategory], mine: list[Spend]) -> MerchantCategory:
    """The stand-in merchant's category: the offer's first, else where the member buys most."""
    if categories:
        return min(categories)
    if mine:
        return max(mine, key=lambda s: (s.count, s.category)).category
    return MerchantCategory.OTHER
