"""`Member.recommendedOffers`: the offers the member can use now, ranked for it, each with its score
and the reasons a wallet can show; each listing the member itself reads is an exposure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.relay.utils import to_base64

from api.access import owns_member_data
from api.context import Info
from api.errors import bad_input
from api.mutations.payload import retrying
from api.types.activity import Money
from api.types.enums import Channel, MerchantCategory, RecommendationReasonCode
from api.types.ids import try_decode_id
from api.types.pagination import page_size
from domain import recommendations as dr
from domain.actors import Role
from domain.errors import NotFound
from domain.merchants import Merchant
from domain.services.recommendations import Recommended, recommended_offers

if TYPE_CHECKING:
    from api.types.offers import Offer


@strawberry.input(
    description="Where the member is about to buy: narrows the recommendations to offers that apply "
    "there (the MEMBER itself and ADMIN). Omitted fields do not narrow."
)
class RecommendationContext:
    channel: Channel | None = strawberry.field(default=None, description="Only offers for this channel.")
    category: MerchantCategory | None = strawberry.field(
        default=None, description="Only offers for merchants of this category; estimated on the basket there."
    )
    merchant_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="Only offers that apply at this merchant, estimated on the basket in its category; "
        "a channel or category it does not match is a BAD_USER_INPUT error.",
    )


@strawberry.type(
    description="One reason to show with a recommended offer: a code, an English message, and the "
    "figures it was made from (only those of its code are set). Seen by the MEMBER itself and ADMIN."
)
class RecommendationReason:
    code: RecommendationReasonCode = strawberry.field(description="What kind of reason.")
    message: str = strawberry.field(description="The reason in English, for a wallet to show as it is.")
    merchant_name: str | None = strawberry.field(description="OFTEN_AT_MERCHANT: the merchant's name.")
    purchases: int | None = strawberry.field(
        description="OFTEN_AT_MERCHANT: the member's purchases there over the last 365 days."
    )
    category: MerchantCategory | None = strawberry.field(description="CATEGORY_SHARE: the category.")
    share_basis_points: int | None = strawberry.field(
        description="CATEGORY_SHARE: the member's share of its spend there; BUDGET_LOW: the share of the "
        "budget left (basis points: 10000 = all)."
    )
    days: int | None = strawberry.field(description="ENDS_SOON: whole days left, rounded up (1: today).")
    amount: Money | None = strawberry.field(
        description="HIGH_VALUE: what the offer gives on the member's typical basket."
    )

    @classmethod
    def from_domain(cls, r: dr.Reason) -> RecommendationReason:
        amount = (
            None
            if r.amount is None
            else Money(amount_minor=r.amount.amount_minor, currency=r.amount.currency)
        )
        return cls(
            code=r.code,
            message=r.message,
            merchant_name=r.merchant_name,
            purchases=r.purchases,
            category=r.category,
            share_basis_points=r.share_basis_points,
            days=r.days,
            amount=amount,
        )


@strawberry.type(
    description="An offer recommended to the member, with its score and reasons (the MEMBER itself and "
    "ADMIN)."
)
class RecommendedOffer:
    offer: Annotated[Offer, strawberry.lazy("api.types.offers")] = strawberry.field(
        description="The offer, with its eligibility reasons and estimate as in eligibleOffers."
    )
    score: str = strawberry.field(
        description="Value × affinity × urgency, in minor units of the basket's currency (a decimal, "
        "two places): the list's order, highest first, ties by offer id. Comparable within one list."
    )
    reasons: list[RecommendationReason] = strawberry.field(
        description="Why it is recommended, most personal first; may be empty."
    )


async def recommended_connection(
    info: Info, member_id: int, first: int | None, context: RecommendationContext | None
) -> relay.Connection[RecommendedOffer]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
    """The first page of the member's recommendations; the offers listed are recorded as exposures
    when the member itself reads them (an admin looking is no exposure)."""
    limit = page_size(first)
    merchant = await _context_merchant(info, context)
    owner = owns_member_data(info, member_id)
    # One more than the page: whether there is a next page.
    lines = await _recommended(info, member_id, context, merchant, limit + 1) if owner else []
    page = lines[:limit]
    actor = info.context.actor
    if page and actor is not None and actor.role is Role.MEMBER and actor.member_id == member_id:
        await info.context.exposures.record(
            member_id, [r.line.offer.id for r in page], info.context.clock.now()
        )
    edges = [
        relay.Edge(cursor=to_base64("recommended", i), node=_node(r))  # type: ignore[type-var]  # as above
        for i, r in enumerate(page)
    ]
    return relay.Connection(  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        page_info=relay.PageInfo(
            has_next_page=len(lines) > limit,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
    )


def _node(r: Recommended) -> RecommendedOffer:
    from api.types.offers import Offer

    line = r.line
    return RecommendedOffer(
        offer=Offer.from_domain(line.offer, line.uses_left, line.reasons, line.estimate),
        score=r.recommendation.score_text,
        reasons=[RecommendationReason.from_domain(x) for x in r.recommendation.reasons],
    )


async def _context_merchant(info: Info, context: RecommendationContext | None) -> Merchant | None:
    """The context's merchant; a malformed or unknown one, or one the channel or category contradicts,
    is bad input."""
    if context is None or context.merchant_id is None:
        return None
    merchant_id = try_decode_id(context.merchant_id, "Merchant")
    found = await info.context.loaders.merchants.load(merchant_id) if merchant_id is not None else None
    if found is None:
        raise bad_input("`context.merchantId` is not a merchant's id")
    if context.category is not None and context.category is not found.category:
        raise bad_input(
            f"`context.category` is {context.category.value}; the merchant's is {found.category.value}"
        )
    if context.channel is not None and not found.accepts(context.channel):
        raise bad_input(f"`context.channel`: the merchant does not sell {context.channel.value}")
    return found


async def _recommended(
    info: Info, member_id: int, context: RecommendationContext | None, merchant: Merchant | None, first: int
) -> list[Recommended]:
    ctx = info.context
    activity = await ctx.loaders.activity.load(member_id)
    programme = await ctx.loaders.programme()
    ladder = await ctx.loaders.ladder()
    try:
        return await retrying(
            info,
            lambda: recommended_offers(
                member_id,
                channel=None if context is None else context.channel,
                category=None if context is None else context.category,
                merchant=merchant,
                uow=ctx.read_uow_factory(),
                reader=ctx.wallet_offers,
                clock=ctx.clock,
                activity=activity,
                programme=programme,
                ladder=ladder,
                first=first,
            ),
        )
    except NotFound:  # a token for a member that no longer exists lists nothing
        return []
