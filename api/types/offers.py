"""Offers as the API shows them, what an offer gave a purchase, and why an offer did not apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from api.access import readable_offers
from api.context import Info
from api.types.activity import Money
from api.types.enums import Channel, IncomeBand, MerchantCategory, describe_values
from api.types.ids import encode_id
from api.types.nodes import LoadedNode
from api.types.offer_estimates import OfferEstimate
from api.types.offer_experiments import OfferExperiment
from domain import money as dmoney
from domain import offers as do

if TYPE_CHECKING:
    from api.types.experiments import CampaignExperiment

strawberry.enum(do.Mechanic, name="OfferMechanic", description="What an offer gives.")
describe_values(
    do.Mechanic,
    {
        do.Mechanic.BONUS_POINTS: "A fixed number of points.",
        do.Mechanic.POINTS_MULTIPLIER: "The purchase's base points times a factor, in all.",
        do.Mechanic.INSTANT_DISCOUNT: "A fixed amount off the purchase.",
        do.Mechanic.SPEND_AND_SAVE: "A fixed amount off a purchase of at least a threshold.",
        do.Mechanic.PERCENT_DISCOUNT: "A percentage off, up to a cap.",
        do.Mechanic.CASHBACK_POINTS: "A percentage of the amount paid, as points.",
        do.Mechanic.CASHBACK_MONEY: "A percentage of the amount paid, credited back by the merchant.",
    },
)
Mechanic = do.Mechanic
strawberry.enum(
    do.OfferStatus,
    name="OfferStatus",
    description="ACTIVE offers apply inside their window; PAUSED ones until resumed; ARCHIVED never.",
)
describe_values(
    do.OfferStatus,
    {
        do.OfferStatus.ACTIVE: "Applies inside its window.",
        do.OfferStatus.PAUSED: "Applies to nothing until an admin resumes it.",
        do.OfferStatus.ARCHIVED: "Ended for good.",
    },
)
OfferStatus = do.OfferStatus
strawberry.enum(do.FunderKind, name="FunderKind", description="Who pays for part of an offer.")
describe_values(
    do.FunderKind,
    {
        do.FunderKind.PROGRAMME: "The programme itself.",
        do.FunderKind.MERCHANT: "A merchant (funderId: its Merchant id).",
        do.FunderKind.PARTNER: "A partner brand (funderId: its PartnerBrand id).",
    },
)
FunderKind = do.FunderKind
strawberry.enum(
    do.BonusReason, name="BonusReason", description="Why an offer gave points outside a purchase."
)
describe_values(
    do.BonusReason,
    {
        do.BonusReason.SIGN_UP: "A SIGN_UP offer's bonus, at enrolment.",
        do.BonusReason.RED_PACKET: "A red-packet coupon opened by the member.",
        do.BonusReason.TRIGGER: "A triggered campaign's AWARD_POINTS action.",
    },
)
BonusReason = do.BonusReason
strawberry.enum(
    do.CapPeriod,
    name="CapPeriod",
    description="The period an offer's per-member limit counts in; OFFER: its whole life.",
)
describe_values(
    do.CapPeriod,
    {
        do.CapPeriod.DAY: "A calendar day.",
        do.CapPeriod.WEEK: "A calendar week.",
        do.CapPeriod.MONTH: "A calendar month.",
        do.CapPeriod.OFFER: "The offer's whole life.",
    },
)
CapPeriod = do.CapPeriod
strawberry.enum(
    do.SkipReason, name="OfferSkipReason", description="The condition an offer failed for a purchase."
)
describe_values(
    do.SkipReason,
    {
        do.SkipReason.NOT_ACTIVE: "The offer is paused or archived.",
        do.SkipReason.OUTSIDE_WINDOW: "The purchase is outside the offer's window.",
        do.SkipReason.MERCHANT: "The offer is for other merchants.",
        do.SkipReason.CATEGORY: "The offer is for other merchant categories.",
        do.SkipReason.PARTNER: "The offer is for other partner brands' merchants.",
        do.SkipReason.CHANNEL: "The offer is for the other channel.",
        do.SkipReason.CURRENCY: "The offer's amounts are in another currency than the purchase.",
        do.SkipReason.MINIMUM_SPEND: "The purchase is below the offer's minimum spend or threshold.",
        do.SkipReason.SEGMENT: "The member is outside the offer's segment.",
        do.SkipReason.TIER: "The offer is for members of other tiers.",
        do.SkipReason.NOT_DORMANT: "A win-back offer, for dormant members only.",
        do.SkipReason.NEW_MEMBERS_ONLY: "The offer is for members enrolled more recently.",
        do.SkipReason.NOT_FIRST_PURCHASE: "The offer rewards a first purchase, and this is not one.",
        do.SkipReason.MEMBER_LIMIT_REACHED: "The member used the offer as often as it may in this period.",
        do.SkipReason.GLOBAL_LIMIT_REACHED: "The offer was used as often as it may be, by all members.",
        do.SkipReason.BUDGET_EXHAUSTED: "What it would give does not fit in what is left of its budget.",
        do.SkipReason.NOTHING_TO_GIVE: "On this purchase the offer works out to nothing.",
        do.SkipReason.COUPON_REQUIRED: "A coupon-only offer; the purchase presented none of its coupons.",
        do.SkipReason.NOT_A_PURCHASE_OFFER: "Given on sign-up or by a red packet, not on purchases.",
        do.SkipReason.NOT_REFERRED: "The offer is for referred members only.",
        do.SkipReason.EXCLUSIVE_WITH_BETTER: "A better offer of its exclusive group applied instead.",
    },
)
SkipReason = do.SkipReason
strawberry.enum(
    do.FirstPurchase, name="FirstPurchase", description="Which first purchase a first-purchase offer rewards."
)
describe_values(
    do.FirstPurchase,
    {
        do.FirstPurchase.EVER: "The member's first purchase anywhere.",
        do.FirstPurchase.AT_MERCHANT: "The member's first purchase at the merchant.",
        do.FirstPurchase.AT_PARTNER: "The member's first purchase at the merchant's partner brand.",
    },
)
FirstPurchase = do.FirstPurchase
strawberry.enum(
    do.Trigger,
    name="OfferTrigger",
    description="What gives an offer: a purchase, enrolment (SIGN_UP) or a red packet's code.",
)
describe_values(
    do.Trigger,
    {
        do.Trigger.PURCHASE: "Applied by postPurchase.",
        do.Trigger.SIGN_UP: "A bonus given once, when the member enrols.",
        do.Trigger.RED_PACKET: "A points gift a member opens with one of the offer's codes.",
        do.Trigger.CAMPAIGN: "Bonus points a triggered campaign's action gives (createTrigger).",
    },
)
Trigger = do.Trigger


def money(m: dmoney.Money | None) -> Money | None:
    return None if m is None else Money(amount_minor=m.amount_minor, currency=m.currency)


def funder_id(kind: do.FunderKind, value: int | None) -> relay.GlobalID | None:
    if value is None:
        return None
    return encode_id("Merchant" if kind is do.FunderKind.MERCHANT else "PartnerBrand", value)


@strawberry.type(description="Who pays for an offer, as a percentage of its cost.")
class FundingShare:
    kind: FunderKind = strawberry.field(description="Who pays this share.")
    funder_id: relay.GlobalID | None = strawberry.field(
        description="The merchant or partner brand; null for the programme."
    )
    percent: int = strawberry.field(description="Its share of the cost, 1 to 100; the shares add up to 100.")


@strawberry.type(description="Profile conditions; an empty list places no condition.")
class OfferSegment:
    regions: list[str] = strawberry.field(description="Only members in these regions.")
    income_bands: list[IncomeBand] = strawberry.field(description="Only members in these income bands.")
    any_tags: list[str] = strawberry.field(description="Only members with at least one of these tags.")
    born_from: int | None = strawberry.field(description="Only members born in this year or later.")
    born_to: int | None = strawberry.field(description="Only members born in this year or earlier.")


@strawberry.type(description="What an offer's limits have counted so far.")
class OfferUsage:
    points_used: int = strawberry.field(description="Points given, against budgetPoints.")
    money_used_minor: int = strawberry.field(
        description="Discount and cashback given, in minor units, against budgetMoney."
    )
    uses: int = strawberry.field(description="Times it applied, against maxUses.")


@strawberry.type(description="A promotion: what the member gets, where and when, who pays, and its limits.")
class Offer(LoadedNode[do.Offer]):
    id: relay.NodeID[int]
    version: int = strawberry.field(description="Starts at 1; updateOffer adds one.")
    name: str = strawberry.field(description="Its display name.")
    mechanic: Mechanic = strawberry.field(description="What the member gets.")
    status: OfferStatus = strawberry.field(description="ACTIVE offers apply inside their window.")
    starts_at: datetime = strawberry.field(description="When it starts applying.")
    ends_at: datetime = strawberry.field(description="When it stops applying.")
    time_zone: str = strawberry.field(description="The IANA zone its days and hours are read in.")
    days_of_week: list[int] = strawberry.field(description="ISO: 1 Monday .. 7 Sunday; empty: every day.")
    from_hour: int | None = strawberry.field(
        description="Applies from this hour (0-23) on its days; null: all day."
    )
    to_hour: int | None = strawberry.field(description="Applies until this hour (exclusive); null: all day.")
    points: int = strawberry.field(description="BONUS_POINTS: the points given.")
    multiplier: Decimal = strawberry.field(description="POINTS_MULTIPLIER: base points x this.")
    amount: Money | None = strawberry.field(description="INSTANT_DISCOUNT, SPEND_AND_SAVE: the amount off.")
    threshold: Money | None = strawberry.field(
        description="SPEND_AND_SAVE: the spend that earns the amount off."
    )
    percent: Decimal = strawberry.field(description="PERCENT_DISCOUNT and the cashbacks: the percentage.")
    cap: Money | None = strawberry.field(description="PERCENT_DISCOUNT: at most this off.")
    merchant_ids: list[relay.GlobalID] = strawberry.field(description="Only these merchants; empty: any.")
    categories: list[MerchantCategory] = strawberry.field(
        description="Only merchants in these categories; empty: any."
    )
    partner_ids: list[relay.GlobalID] = strawberry.field(
        description="Only merchants of these partner brands; empty: any."
    )
    channels: list[Channel] = strawberry.field(description="Only purchases on these channels; empty: any.")
    minimum_spend: Money | None = strawberry.field(description="Only purchases of at least this amount.")
    new_members_within_days: int | None = strawberry.field(
        description="Only members enrolled within this many days."
    )
    first_purchase: FirstPurchase | None = strawberry.field(
        description="Only a first purchase of this kind; once per member."
    )
    segment: OfferSegment = strawberry.field(description="Profile conditions on the member.")
    funding: list[FundingShare] = strawberry.field(description="Who pays for what it gives.")
    budget_points: int | None = strawberry.field(description="It stops once it has given this many points.")
    budget_money: Money | None = strawberry.field(
        description="It stops once it has given this much discount or cashback."
    )
    max_uses: int | None = strawberry.field(description="It stops after this many uses in all.")
    per_member: int | None = strawberry.field(description="Uses per member per perMemberPeriod.")
    per_member_period: CapPeriod = strawberry.field(description="The period perMember counts in.")
    exclusive_group: str | None = strawberry.field(
        description="Offers sharing a group compete: only the best applies."
    )
    priority: int = strawberry.field(
        description="Higher first among discounts; breaks ties within an exclusiveGroup."
    )
    requires_coupon: bool = strawberry.field(description="Applies only with one of its coupons.")
    trigger: Trigger = strawberry.field(description="What gives it: a purchase, enrolment or a red packet.")
    referrer_points: int = strawberry.field(description="Also given to the member who referred the buyer.")
    referred_only: bool = strawberry.field(description="Only members who were referred.")
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        description="Only these tiers; null: every tier."
    )
    segment_ids: list[relay.GlobalID] | None = strawberry.field(
        description="Only members of any of these segments; null: no segment condition."
    )
    dormant_only: bool = strawberry.field(description="A win-back offer, for dormant members only.")
    uses_left: int | None = strawberry.field(
        description="In me.eligibleOffers: the member's uses left this period (null: no per-member limit)."
    )
    reasons: list[str] = strawberry.field(
        description="In me.eligibleOffers (the MEMBER itself and ADMIN): why it applies to the member, in "
        'words a wallet can show ("Gold members", "dining at Tea House", "weekends 18:00-22:00"); '
        "empty elsewhere."
    )
    estimate: OfferEstimate | None = strawberry.field(
        description="In me.eligibleOffers (the MEMBER itself and ADMIN): what it would give the member on "
        "its typical basket; null elsewhere, and when there is nothing to go by (no purchases in its "
        "categories anywhere, no minimum spend, and not a fixed bonus)."
    )
    source: strawberry.Private[do.Offer]

    @strawberry.field(
        description="Its experiment (variants, holdout, members' arms): ADMIN only; null without one."
    )
    def experiment(self) -> OfferExperiment | None:
        found = self.source.experiment
        return None if found is None else OfferExperiment.from_domain(self.id, found)

    @strawberry.field(description="What it has given so far: ADMIN and its funders (PARTNER, MERCHANT) only.")
    async def usage(self, info: Info) -> OfferUsage | None:
        found = await info.context.reader.offer_usage([self.id])
        used = found[0]
        return (
            None if used is None else OfferUsage(points_used=used[0], money_used_minor=used[1], uses=used[2])
        )

    @classmethod
    def from_domain(
        cls,
        o: do.Offer,
        uses_left: int | None = None,
        reasons: Sequence[str] = (),
        estimate: do.Estimate | None = None,
    ) -> Offer:
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
            segment_ids=None
            if e.segment_ids is None
            else [encode_id("Segment", i) for i in sorted(e.segment_ids)],
            dormant_only=e.dormant_only,
            uses_left=uses_left,
            reasons=list(reasons),
            estimate=None if estimate is None else OfferEstimate.from_domain(estimate),
            source=o,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[do.Offer | None]:
        return await info.context.loaders.offers.load_many(ids)

    @classmethod
    async def readable(cls, info: Info, found: Sequence[do.Offer | None]) -> list[bool]:
        # A member's offers are those it is eligible for: worked out once for all of them.
        return await readable_offers(info, found)


async def load_usage(info: Info, offer_id: int) -> OfferUsage | None:
    [used] = await info.context.reader.offer_usage([offer_id])
    return None if used is None else OfferUsage(points_used=used[0], money_used_minor=used[1], uses=used[2])


@strawberry.type(description="A coupon code for a coupon-only offer.")
class Coupon:
    code: str = strawberry.field(description="The code a member presents.")
    offer_id: relay.GlobalID = strawberry.field(description="The coupon-only offer it unlocks.")
    max_uses: int = strawberry.field(description="How many purchases may use it.")
    uses: int = strawberry.field(description="How many purchases used it so far.")

    @classmethod
    def from_domain(cls, c: do.Coupon) -> Coupon:
        return cls(code=c.code, offer_id=encode_id("Offer", c.offer_id), max_uses=c.max_uses, uses=c.uses)


@strawberry.type(description="One funder's part of what an award cost.")
class FundedCost:
    kind: FunderKind = strawberry.field(description="Who pays this part.")
    funder_id: relay.GlobalID | None = strawberry.field(
        description="The merchant or partner brand; null for the programme."
    )
    points: int = strawberry.field(description="Its share of the points given.")
    money_minor: int = strawberry.field(description="Its share of the discount or cashback, in minor units.")

    @classmethod
    def from_domain(cls, f: do.FundedCost) -> FundedCost:
        return cls(
            kind=f.kind, funder_id=funder_id(f.kind, f.funder_id), points=f.points, money_minor=f.money_minor
        )


@strawberry.type(description="What one offer gave one purchase, at the offer version it used.")
class OfferAward:
    offer_id: relay.GlobalID = strawberry.field(description="The offer.")
    offer_version: int = strawberry.field(description="The offer's version that applied.")
    mechanic: Mechanic = strawberry.field(description="What the offer gave.")
    points: int = strawberry.field(description="Points it gave.")
    discount: Money = strawberry.field(description="Money off the purchase.")
    cashback: Money = strawberry.field(description="Money given back to the member.")
    funding: list[FundedCost] = strawberry.field(description="Who pays for the award, and how much.")

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
    offer_id: relay.GlobalID = strawberry.field(description="The offer that would not apply.")
    reason: SkipReason = strawberry.field(description="The first condition it failed.")


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
    currency: str = strawberry.field(description="ISO 4217 code of the figures.")
    spend_minor: int = strawberry.field(description="What the purchases cost, less what was refunded.")
    discount_minor: int = strawberry.field(description="Discounts given, in minor units, less refunds.")
    cashback_minor: int = strawberry.field(description="Money cashback given, in minor units, less refunds.")


@strawberry.type(
    description="Points an offer gave outside purchases for one reason; each is one use of the offer."
)
class CampaignBonuses:
    reason: BonusReason = strawberry.field(description="Why they were given.")
    awards: int = strawberry.field(description="Bonuses given.")
    members: int = strawberry.field(description="Members given one.")
    points: int = strawberry.field(description="Points they gave.")
    funding: list[FundedCost] = strawberry.field(description="Each funder's share of those points.")

    @classmethod
    def from_domain(cls, b: do.BonusTotals) -> CampaignBonuses:
        return cls(
            reason=b.reason,
            awards=b.awards,
            members=b.members,
            points=b.points,
            funding=[FundedCost.from_domain(f) for f in b.funding],
        )


@strawberry.type(
    description=(
        "What an offer has done so far, net of refunds: what refunds gave back to the offer's budget "
        "is out of every figure, so the totals agree with usage."
    )
)
class CampaignReport:
    offer: Offer = strawberry.field(description="The offer reported on.")
    purchases: int = strawberry.field(description="Purchases the offer applied to, not fully refunded.")
    members: int = strawberry.field(description="Members with such a purchase.")
    points_awarded: int = strawberry.field(description="Points the purchases' awards gave, less refunds.")
    money: list[CampaignMoney] = strawberry.field(
        description="Spend, discount and cashback, one entry per currency."
    )
    funding: list[FundedCost] = strawberry.field(
        description="Each funder's share of the purchases' net totals (bonuses carry their own)."
    )
    bonuses: list[CampaignBonuses] = strawberry.field(
        description="What it gave outside purchases (sign-up, red packets, triggered campaigns), one "
        "entry per reason; with purchases they make up its usage. Referral bonuses are in pointsAwarded."
    )
    usage: OfferUsage | None = strawberry.field(description="What the offer's limits have counted so far.")
    experiment: Annotated[CampaignExperiment, strawberry.lazy("api.types.experiments")] | None = (
        strawberry.field(
            description="Its experiment's arms over the period (each variant and the holdout); "
            "null without one."
        )
    )

    @classmethod
    def from_domain(
        cls,
        offer: Offer,
        totals: do.CampaignTotals,
        usage: OfferUsage | None,
        experiment: CampaignExperiment | None = None,
    ) -> CampaignReport:
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
            bonuses=[CampaignBonuses.from_domain(b) for b in totals.bonuses],
            usage=usage,
            experiment=experiment,
        )
