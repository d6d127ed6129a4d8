"""A member's behavioural profile as the API shows it (domain/profiles.py): for admins on
`Member.insights`, and for the member itself on `me.insights`, a wallet's spending summary."""

from __future__ import annotations

from datetime import date, timedelta

import strawberry

from api.context import Info
from api.types.activity import Money
from api.types.catalogue import Merchant
from api.types.enums import Channel, MerchantCategory, describe_values
from domain import members as dm
from domain import profiles as dp

strawberry.enum(
    dp.LifecycleStage,
    name="LifecycleStage",
    description="Where a member stands in its lifecycle, by its activity.",
)
describe_values(
    dp.LifecycleStage,
    {
        dp.LifecycleStage.NEW: "Enrolled fewer than newMemberDays ago.",
        dp.LifecycleStage.ACTIVE: "Bought within atRiskAfterDays.",
        dp.LifecycleStage.AT_RISK: "No purchase for atRiskAfterDays or more.",
        dp.LifecycleStage.DORMANT: "No purchase for dormantAfterDays or more, or marked dormant by the job.",
        dp.LifecycleStage.CHURNED: "No purchase for churnedAfterDays or more.",
    },
)
LifecycleStage = dp.LifecycleStage


@strawberry.type(description="Purchases and spend over the last `days` days, today included (UTC days).")
class ActivityWindow:
    days: int = strawberry.field(description="The window's length: 30, 90 or 365.")
    purchases: int = strawberry.field(description="Purchases not fully refunded, in any currency.")
    spend: Money = strawberry.field(description="What they cost, net of refunds, in the profile's currency.")


@strawberry.type(description="Spend at merchants of one category over the last 365 days.")
class CategorySpend:
    category: MerchantCategory = strawberry.field(description="The merchants' category (as it is now).")
    purchases: int = strawberry.field(description="Purchases in the profile's currency.")
    spend: Money = strawberry.field(description="Net of refunds.")
    share_basis_points: int = strawberry.field(
        description="Its share of all spend in basis points; the shares sum to exactly 10,000."
    )


@strawberry.type(description="How many purchases went through one channel over the last 365 days.")
class ChannelUse:
    channel: Channel = strawberry.field(description="Online or in store.")
    purchases: int = strawberry.field(description="Purchases not fully refunded.")


@strawberry.type(description="Spend at one merchant over the last 365 days.")
class MerchantSpend:
    purchases: int = strawberry.field(description="Purchases in the profile's currency.")
    spend: Money = strawberry.field(description="Net of refunds.")
    merchant_id: strawberry.Private[int]

    @strawberry.field(description="Where the member spent it.")
    async def merchant(self, info: Info) -> Merchant | None:
        found = await info.context.loaders.merchants.load(self.merchant_id)
        return None if found is None else Merchant.from_domain(found)


@strawberry.type(description="Spend in one category in one calendar month (UTC).")
class MonthlySpend:
    month: str = strawberry.field(description="YYYY-MM.")
    category: MerchantCategory = strawberry.field(description="The merchants' category.")
    spend: Money = strawberry.field(description="Net of refunds.")


@strawberry.type(
    description="A member's behavioural profile, kept current by every purchase and refund (the MEMBER "
    "itself and ADMIN)."
)
class MemberInsights:
    stage: LifecycleStage = strawberry.field(description="Its lifecycle stage under the programme's rules.")
    last_purchase_on: date | None = strawberry.field(
        description="The UTC day of its last purchase within a year; null when none."
    )
    windows: list[ActivityWindow] = strawberry.field(description="Over 30, 90 and 365 days.")
    average_ticket: Money | None = strawberry.field(
        description="Spend over 365 days divided by its purchases, half to even; null without purchases."
    )
    categories: list[CategorySpend] = strawberry.field(description="Over 365 days, the most spend first.")
    channels: list[ChannelUse] = strawberry.field(description="Over 365 days, the most used first.")
    top_merchants: list[MerchantSpend] = strawberry.field(
        description="Over 365 days, the five with the most spend."
    )
    monthly: list[MonthlySpend] = strawberry.field(
        description="Spend by category in each of the last 12 calendar months, oldest first: a wallet's "
        "spending summary."
    )

    @classmethod
    def from_domain(cls, i: dp.Insights) -> MemberInsights:
        def money(minor: int) -> Money:
            return Money(amount_minor=minor, currency=i.currency)

        return cls(
            stage=i.stage,
            last_purchase_on=i.last_purchase_day,
            windows=[
                ActivityWindow(days=w.days, purchases=w.purchases, spend=money(w.spend_minor))
                for w in i.windows
            ],
            average_ticket=None if i.average_ticket_minor is None else money(i.average_ticket_minor),
            categories=[
                CategorySpend(
                    category=c.category,
                    purchases=c.purchases,
                    spend=money(c.spend_minor),
                    share_basis_points=c.share_basis_points,
                )
                for c in i.categories
            ],
            channels=[ChannelUse(channel=c.channel, purchases=c.purchases) for c in i.channels],
            top_merchants=[
                MerchantSpend(purchases=m.purchases, spend=money(m.spend_minor), merchant_id=m.merchant_id)
                for m in i.top_merchants
            ],
            monthly=[
                MonthlySpend(month=m.month, category=m.category, spend=money(m.spend_minor)) for m in i.months
            ],
        )


async def member_insights(info: Info, member: dm.Member) -> MemberInsights:
    """The member's profile as of now, from its day counters of the last year."""
    context = info.context
    today = dp.utc_day(context.clock.now())
    rows = await context.loaders.activity.load(member.id)
    programme = await context.loaders.programme()
    currency = dp.profile_currency(programme, await context.loaders.ladder())
    found = dp.insights(
        [r for r in rows if r.day >= today - timedelta(days=dp.LONGEST_WINDOW)],
        currency=currency,
        today=today,
        enrolled_on=dp.utc_day(member.enrolled_at),
        marked_dormant=member.dormant_since is not None,
        rules=await context.loaders.lifecycle_rules(),
    )
    return MemberInsights.from_domain(found)
