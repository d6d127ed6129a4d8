"""Offers as the API shows them, what an offer gave a purchase, and why an offer did not apply."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from api.access import funds_offer, readable_offers
from api.context import Info
from api.types.activity import Money
from api.types.enums import Channel, IncomeBand, MerchantCategory
from api.types.ids import encode_id, node_ints
from domain import money as dmoney
from domain import offers as do

Mechanic = strawberry.enum(do.Mechanic, name="OfferMechanic")
OfferStatus = strawberry.enum(do.OfferStatus, name="OfferStatus")
FunderKind = strawberry.enum(do.FunderKind, name="FunderKind")
CapPeriod = strawberry.enum(do.CapPeriod, name="CapPeriod")
SkipReason = strawberry.enum(do.SkipReason, name="OfferSkipReason")
FirstPurchase = strawberry.enum(do.FirstPurchase, name="FirstPurchase")
Trigger = strawberry.enum(do.Trigger, name="OfferTrigger")


def money(m: dmoney.Money | None) -> Money | None:
    return None if m is None else Money(amount_minor=m.amount_minor, currency=m.currency)


def funder_id(kind: do.FunderKind, value: int | None) -> relay.GlobalID | None:
    if value is None:
        return None
    return encode_id("Merchant" if kind is do.FunderKind.MERCHANT else "PartnerBrand", value)


@strawberry.type(description="Who pays for an offer, as a percentage of its cost.")
class FundingShare:
    kind: FunderKind  # type: ignore[valid-type]
    funder_id: relay.GlobalID | None = strawberry.field(
        description="The merchant or partner brand; null for the programme."
    )
    percent: int


@strawberry.type(description="Profile conditions; an empty list places no condition.")
class OfferSegment:
    regions: list[str]
    income_bands: list[IncomeBand]  # type: ignore[valid-type]
    any_tags: list[str]
    born_from: int | None
    born_to: int | None


@strawberry.type
class OfferUsage:
    points_used: int
    money_used_minor: int
    uses: int


@strawberry.type(description="A promotion: what the member gets, where and when, who pays, and its limits.")
class Offer(relay.Node):
    id: relay.NodeID[int]
    version: int
    name: str
    mechanic: Mechanic  # type: ignore[valid-type]
    status: OfferStatus  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    days_of_week: list[int] = strawberry.field(description="ISO: 1 Monday .. 7 Sunday; empty: every day.")
    from_hour: int | None
    to_hour: int | None
    points: int
    multiplier: Decimal
    amount: Money | None
    threshold: Money | None
    percent: Decimal
    cap: Money | None
    merchant_ids: list[relay.GlobalID]
    categories: list[MerchantCategory]  # type: ignore[valid-type]
    partner_ids: list[relay.GlobalID]
    channels: list[Channel]  # type: ignore[valid-type]
    minimum_spend: Money | None
    new_members_within_days: int | None
    first_purchase: FirstPurchase | None  # type: ignore[valid-type]
    segment: OfferSegment
    funding: list[FundingShare]
    budget_points: int | None
    budget_money: Money | None
    max_uses: int | None
    per_member: int | None
    per_member_period: CapPeriod  # type: ignore[valid-type]
    exclusive_group: str | None
    priority: int
    requires_coupon: bool
    trigger: Trigger  # type: ignore[valid-type]
    referrer_points: int
    referred_only: bool
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        description="Only these tiers; null: every tier."
    )
    dormant_only: bool = strawberry.field(description="A win-back offer, for dormant members only.")
    uses_left: int | None = strawberry.field(
        description="In me.eligibleOffers: the member's uses left this period (null: no per-member limit)."
    )
    source: strawberry.Private[do.Offer]

    @strawberry.field(description="What it has given so far: admins and its funders only.")
    async def usage(self, info: Info) -> OfferUsage | None:
        if not funds_offer(info, self.source):
            return None
        found = await info.context.reader.offer_usage([self.id])
        used = found[0]
        return (
            None if used is None else OfferUsage(points_used=used[0], money_used_minor=used[1], uses=used[2])
        )

    @classmethod
    def from_domain(cls, o: do.Offer, uses_left: int | None = None) -> Offer:
        w, e, lim = o.window, o.eligibility, o.limits
        return cls(
            id=o.id,
            version=o.version,
            name=o.name,
            mechanic=o.mechanic,
            status=o.status,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            time_zone=w.time_zone,
            days_of_week=sorted(w.days_of_week),
            from_hour=w.from_hour,
            to_hour=w.to_hour,
            points=o.points,
            multiplier=o.multiplier,
            amount=money(o.amount),
            threshold=money(o.threshold),
            percent=o.percent,
            cap=money(o.cap),
            merchant_ids=[encode_id("Merchant", i) for i in sorted(e.merchant_ids)],
            categories=sorted(e.categories),
            partner_ids=[encode_id("PartnerBrand", i) for i in sorted(e.partner_ids)],
            channels=sorted(e.channels),
            minimum_spend=money(e.minimum_spend),
            new_members_within_days=e.new_members_within_days,
            first_purchase=e.first_purchase,
            segment=OfferSegment(
                regions=sorted(e.segment.regions),
                income_bands=sorted(e.segment.income_bands),
                any_tags=sorted(e.segment.any_tags),
                born_from=e.segment.born_from,
                born_to=e.segment.born_to,
            ),
            funding=[
                FundingShare(kind=f.kind, funder_id=funder_id(f.kind, f.funder_id), percent=f.percent)
                for f in o.funding
            ],
            budget_points=lim.budget_points,
            budget_money=money(lim.budget_money),
            max_uses=lim.max_uses,
            per_member=lim.per_member,
            per_member_period=lim.per_member_period,
            exclusive_group=o.exclusive_group,
            priority=o.priority,
            requires_coupon=o.requires_coupon,
            trigger=o.trigger,
            referrer_points=o.referrer_points,
            referred_only=e.referred_only,
            tier_ids=None if e.tier_ids is None else [encode_id("Tier", i) for i in sorted(e.tier_ids)],
            dormant_only=e.dormant_only,
            uses_left=uses_left,
            source=o,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Offer | None]:
        found = await info.context.loaders.offers.load_many(node_ints(node_ids))
        readable = await readable_offers(info, found)
        return [cls.from_domain(o) if o and ok else None for o, ok in zip(found, readable, strict=True)]


async def load_usage(info: Info, offer_id: int) -> OfferUsage | None:
    [used] = await info.context.reader.offer_usage([offer_id])
    return None if used is None else OfferUsage(points_used=used[0], money_used_minor=used[1], uses=used[2])


@strawberry.type(description="A coupon code for a coupon-only offer.")
class Coupon:
    code: str
    offer_id: relay.GlobalID
    max_uses: int
    uses: int

    @classmethod
    def from_domain(cls, c: do.Coupon) -> Coupon:
        return cls(code=c.code, offer_id=encode_id("Offer", c.offer_id), max_uses=c.max_uses, uses=c.uses)


@strawberry.type(description="One funder's part of what an award cost.")
class FundedCost:
    kind: FunderKind  # type: ignore[valid-type]
    funder_id: relay.GlobalID | None
    points: int
    money_minor: int

    @classmethod
    def from_domain(cls, f: do.FundedCost) -> FundedCost:
        return cls(
            kind=f.kind, funder_id=funder_id(f.kind, f.funder_id), points=f.points, money_minor=f.money_minor
        )


@strawberry.type(description="What one offer gave one purchase, at the offer version it used.")
class OfferAward:
    offer_id: relay.GlobalID
    offer_version: int
    mechanic: Mechanic  # type: ignore[valid-type]
    points: int
    discount: Money
    cashback: Money
    funding: list[FundedCost]

    @classmethod
    def from_domain(cls, a: do.Award, currency: str) -> OfferAward:
        return cls(
            offer_id=encode_id("Offer", a.offer_id),
            offer_version=a.version,
            mechanic=a.mechanic,
            points=a.points,
            discount=Money(amount_minor=a.discount_minor, currency=currency),
            cashback=Money(amount_minor=a.cashback_minor, currency=currency),
            funding=[FundedCost.from_domain(f) for f in a.funding],
        )


@strawberry.type(description="An offer that would not apply, and why.")
class OfferSkip:
    offer_id: relay.GlobalID
    reason: SkipReason  # type: ignore[valid-type]


@strawberry.type(description="An offer a member can use now.")
class EligibleOffer:
    offer: Offer
    uses_left: int | None = strawberry.field(
        description="This member's uses left in the period; null: no limit."
    )


@strawberry.type(
    description="Spend, discount and cashback behind an offer's awards, in one currency, net of refunds."
)
class CampaignMoney:
    currency: str
    spend_minor: int = strawberry.field(description="What the purchases cost, less what was refunded.")
    discount_minor: int
    cashback_minor: int


@strawberry.type(
    description=(
        "What an offer has done so far, net of refunds: what refunds gave back to the offer's budget "
        "is out of every figure, so the totals agree with usage."
    )
)
class CampaignReport:
    offer: Offer
    purchases: int = strawberry.field(description="Purchases the offer applied to, not fully refunded.")
    members: int = strawberry.field(description="Members with such a purchase.")
    points_awarded: int = strawberry.field(description="Points the purchases' awards gave, less refunds.")
    money: list[CampaignMoney]
    funding: list[FundedCost] = strawberry.field(description="Each funder's share of the net totals.")
    usage: OfferUsage | None

    @classmethod
    def from_domain(cls, offer: Offer, totals: do.CampaignTotals, usage: OfferUsage | None) -> CampaignReport:
        return cls(
            offer=offer,
            purchases=totals.purchases,
            members=totals.members,
            points_awarded=totals.points,
            money=[
                CampaignMoney(currency=c, spend_minor=spend, discount_minor=d, cashback_minor=cb)
                for c, spend, d, cb in totals.by_currency
            ],
            funding=[FundedCost.from_domain(f) for f in totals.funding],
            usage=usage,
        )
