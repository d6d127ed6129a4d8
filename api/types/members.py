"""Members, their balances and their ledger."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from api.access import can_read_member, member_eligible_offers
from api.context import Info
from api.mutations.payload import retrying
from api.types.enums import Channel, EntryKind, IncomeBand, LedgerAccount, MemberStatus, MerchantCategory
from api.types.ids import encode_id
from api.types.nodes import LoadedNode
from api.types.offer_ranking import ranked_connection
from api.types.pagination import After, First, connection
from domain import ledger as dl
from domain import members as dm

if TYPE_CHECKING:
    from api.types.activity import Purchase, Redemption
    from api.types.insights import MemberInsights
    from api.types.links import MerchantLink
    from api.types.offers import Coupon, Offer
    from api.types.purchase_lists import MemberPurchaseFilter
    from api.types.recommendations import RecommendationContext, RecommendedOffer
    from api.types.tiers import Tier, TierChange, TierProgress

_ORIGIN_TYPE_NAMES = {
    dl.OriginType.PURCHASE: "Purchase",
    dl.OriginType.REDEMPTION: "Redemption",
    dl.OriginType.ADJUSTMENT: "Adjustment",
    dl.OriginType.AWARD: "MemberAward",
    dl.OriginType.EXPIRATION: "Expiration",
    dl.OriginType.TRANSFER: "Transfer",
    dl.OriginType.REFUND: "Refund",
}


@strawberry.type(description="What offers may target a member by.")
class MemberProfile:
    birth_year: int | None = strawberry.field(description="Four digits, e.g. 1990.")
    region: str | None = strawberry.field(description="The member's region, as offers name it.")
    income_band: IncomeBand | None = strawberry.field(description="The member's income band.")
    tags: list[str] = strawberry.field(description="Free labels offers may target.")
    time_zone: str | None = strawberry.field(
        description="The member's IANA time zone (Asia/Shanghai): its quiet hours are kept in it; null: UTC."
    )


@strawberry.type(
    description="Contact data: full for the member itself and for ADMIN reading one member (audited), "
    "masked (138****5678, l***@example.cn) in lists."
)
class MemberContact:
    phone: str | None = strawberry.field(description="The phone number, masked where the type says.")
    email: str | None = strawberry.field(description="The email address, masked where the type says.")
    member_id: strawberry.Private[int]
    listed: strawberry.Private[bool] = False


@strawberry.type(description="Points in lots that expire on one date.")
class ExpiringPoints:
    points: int = strawberry.field(description="Available points in those lots.")
    expires_at: datetime = strawberry.field(description="When they expire.")


@strawberry.type(description="A member's points, by account.")
class PointsBalance:
    available: int = strawberry.field(description="Points the member may spend now.")
    pending: int = strawberry.field(description="Points earned but still inside the return window.")
    held: int = strawberry.field(description="Points a POS authorization holds.")
    lifetime_earned: int = strawberry.field(description="All points ever earned.")
    lifetime_redeemed: int = strawberry.field(description="All points ever spent.")
    debt: int = strawberry.field(
        description="Points owed after a refund took back points already spent; earnings repay it first."
    )
    under_review: int = strawberry.field(
        description="Earned points a risk rule holds until an admin approves them; they cannot be spent."
    )
    member_id: strawberry.Private[int]

    @strawberry.field(description="Points in lots expiring in the next 30 days, soonest first.")
    async def expiring_soon(self, info: Info) -> list[ExpiringPoints]:
        lots = await info.context.loaders.expiring.load(self.member_id)
        return [ExpiringPoints(points=lot.points, expires_at=lot.expires_at) for lot in lots]

    @classmethod
    def from_domain(cls, b: dm.Balance) -> PointsBalance:
        return cls(
            available=b.available,
            pending=b.pending,
            held=b.held,
            lifetime_earned=b.lifetime_earned,
            lifetime_redeemed=b.lifetime_redeemed,
            debt=b.debt,
            under_review=b.under_review,
            member_id=b.member_id,
        )


@strawberry.type(description="One movement on one of the member's accounts.")
class LedgerEntry:
    id: relay.GlobalID = strawberry.field(description="The entry's id in the ledger.")
    kind: EntryKind = strawberry.field(description="What moved the points.")
    account: LedgerAccount = strawberry.field(description="The member's account it moved.")
    points: int = strawberry.field(description="Signed: positive adds to the account, negative takes away.")
    description: str = strawberry.field(description="A short human-readable account of the movement.")
    created_at: datetime = strawberry.field(description="When it was posted.")
    origin_id: relay.GlobalID = strawberry.field(
        description="The purchase, redemption or adjustment behind it."
    )

    @classmethod
    def from_domain(cls, p: dl.MemberPosting) -> LedgerEntry:
        return cls(
            id=encode_id("LedgerEntry", p.id),
            kind=p.kind,
            account=p.account,
            points=p.amount,
            description=p.description,
            created_at=p.created_at,
            origin_id=encode_id(_ORIGIN_TYPE_NAMES[p.origin_type], p.origin_id),
        )


@strawberry.type(description="A programme member: profile, status, points and activity.")
class Member(LoadedNode[dm.Member]):
    id: relay.NodeID[int]
    external_ref: str | None = strawberry.field(
        description="The bank's or wallet's own customer id (the MEMBER itself and ADMIN; null for others)."
    )
    status: MemberStatus | None = strawberry.field(
        description="Whether it may earn and spend (the MEMBER itself and ADMIN; null for others)."
    )
    status_reason: str | None = strawberry.field(
        description="Why its status last changed: an admin's lock, unlock or reopening, or its closure "
        "(the MEMBER itself and ADMIN)."
    )
    referral_code: str | None = strawberry.field(
        description="The code others give at enrolment to name it as their referrer (the MEMBER itself "
        "and ADMIN; null for others)."
    )
    enrolled_at: datetime | None = strawberry.field(
        description="When it joined (the MEMBER itself and ADMIN; null for others)."
    )
    profile: MemberProfile | None = strawberry.field(
        description="What offers may target it by: the MEMBER itself, and ADMIN reading this member (each "
        "such read is audited as personal_data.read); null in the `members` list and for others."
    )
    last_activity_at: datetime | None = strawberry.field(
        description="Enrolment, or the member's own last earn, redemption, hold or transfer (the MEMBER "
        "itself and ADMIN)."
    )
    dormant_since: datetime | None = strawberry.field(
        description="When the dormancy job found the member idle (status DORMANT); null once it acts (the "
        "MEMBER itself and ADMIN)."
    )
    marketing_consent: bool | None = strawberry.field(
        description="Whether the programme may send it marketing (the MEMBER itself and ADMIN)."
    )
    marketing_consent_at: datetime | None = strawberry.field(
        description="When the consent was last given or withdrawn; null: never (the MEMBER itself and ADMIN)."
    )
    closed_at: datetime | None = strawberry.field(
        description="When the member closed its account (status CLOSED; the MEMBER itself and ADMIN)."
    )
    points_forfeit_at: datetime | None = strawberry.field(
        description="A closed account's points wait until then (closurePolicy KEEP), while an admin may "
        "reopen it; null when nothing waits (the MEMBER itself and ADMIN)."
    )
    source: strawberry.Private[dm.Member]
    listed: strawberry.Private[bool] = False  # in a list (`members`): contact data masked for all

    @strawberry.field(
        description="Full for the MEMBER itself and for ADMIN reading this member (each such read is "
        "audited as personal_data.read); masked in the `members` list; null for others."
    )
    def contact(self) -> MemberContact | None:
        contact = self.source.contact
        return MemberContact(phone=contact.phone, email=contact.email, member_id=self.id, listed=self.listed)

    @strawberry.field(
        description="The name a till may greet the member by: the programme holds no names, so its phone, "
        "else its email. Full for the MEMBER itself; masked (138****5678) for ADMIN and for a MERCHANT it "
        "is linked to; null for others and when it has neither."
    )
    def display_name(self) -> str | None:
        return dm.display_name(self.source.contact)

    @strawberry.field(description="Its points, by account (the MEMBER itself and ADMIN; null for others).")
    async def balance(self, info: Info) -> PointsBalance | None:
        balance = await info.context.loaders.balances.load(self.id)
        if balance is None:
            raise RuntimeError(f"member {self.id} has no balance row")
        return PointsBalance.from_domain(balance)

    @strawberry.field(
        description="The member's tier: the one it holds, or the entry tier; null when there are no tiers "
        "(the MEMBER itself, ADMIN and a MERCHANT it is linked to; null for others)."
    )
    async def tier(self, info: Info) -> Annotated[Tier, strawberry.lazy("api.types.tiers")] | None:
        from api.types.tiers import tier_or_none
        from domain.tiers import effective_tier

        return tier_or_none(effective_tier(self.source, await info.context.loaders.ladder()))

    @strawberry.field(
        description="Its tier, the next one and what it still needs (the MEMBER itself and ADMIN; null "
        "when there are no tiers)."
    )
    async def tier_progress(
        self, info: Info
    ) -> Annotated[TierProgress, strawberry.lazy("api.types.tiers")] | None:
        from api.types.tiers import TierProgress

        found = await info.context.loaders.tier_progress.load(self.source)
        return None if found is None else TierProgress.from_domain(found)

    @strawberry.field(
        description="The merchants the member linked itself to, newest first (the MEMBER itself and ADMIN; "
        "empty for others)."
    )
    async def merchant_links(
        self, info: Info
    ) -> list[Annotated[MerchantLink, strawberry.lazy("api.types.links")]]:
        from api.types.links import MerchantLink

        return [MerchantLink.from_domain(link) for link in await info.context.reader.member_links(self.id)]

    @strawberry.field(
        description="The caller's reference for the member (a MERCHANT it is linked to; null for others)."
    )
    async def member_ref(self, info: Info) -> str | None:
        actor = info.context.actor
        if actor is None or actor.merchant_id is None:
            return None
        [ref] = await info.context.reader.member_refs(actor.merchant_id, [self.id])
        return ref

    @strawberry.field(
        description="Its behavioural profile: purchases and spend over 30, 90 and 365 days, by category, "
        "channel, merchant and month, and its lifecycle stage (the MEMBER itself and ADMIN; null for others)."
    )
    async def insights(
        self, info: Info
    ) -> Annotated[MemberInsights, strawberry.lazy("api.types.insights")] | None:
        from api.types.insights import member_insights

        return await member_insights(info, self.source)

    @strawberry.field(
        description="The member's tier changes, newest first (the MEMBER itself and ADMIN; empty for others)."
    )
    async def tier_history(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Annotated[TierChange, strawberry.lazy("api.types.tiers")]]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        from api.types.tiers import TierChange

        reader = info.context.reader
        ladder = await info.context.loaders.ladder()

        async def fetch(before: int | None, limit: int) -> list[Any]:
            return await reader.tier_change_page(self.id, before, limit)

        return await connection(
            first=first,
            after=after,
            fetch=fetch,
            key=lambda c: c.id,
            node=lambda c: TierChange.from_domain(c, ladder),
        )

    @strawberry.field(
        description="The member's movements, newest first (the MEMBER itself and ADMIN; empty for others)."
    )
    async def ledger(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[LedgerEntry]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        reader = info.context.reader

        async def fetch(before: int | None, limit: int) -> list[dl.MemberPosting]:
            return await reader.ledger_page(self.id, before, limit)

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda p: p.id, node=LedgerEntry.from_domain
        )

    @strawberry.field(
        description="The member's purchases, newest first, each with its offers, points and refunds (the "
        "MEMBER itself, as me.purchases, and ADMIN; empty for others)."
    )
    async def purchases(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            Annotated[MemberPurchaseFilter, strawberry.lazy("api.types.purchase_lists")] | None,
            strawberry.argument(description="Omitted: every purchase."),
        ] = None,
    ) -> relay.Connection[Annotated[Purchase, strawberry.lazy("api.types.activity")]]:
        from api.types.purchase_lists import member_purchases

        return await member_purchases(info, self.id, first, after, filter)

    @strawberry.field(
        description="Offers this member can use now, each with why it applies and what it would give on "
        "its typical basket; worth most to the member first, then soonest ending (the MEMBER itself and "
        "ADMIN; empty for others)."
    )
    async def eligible_offers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        channel: Annotated[
            Channel | None, strawberry.argument(description="Only offers for this channel.")
        ] = None,
        category: Annotated[
            MerchantCategory | None,
            strawberry.argument(description="Only offers for merchants of this category."),
        ] = None,
    ) -> relay.Connection[Annotated[Offer, strawberry.lazy("api.types.offers")]]:
        from api.types.offers import Offer

        lines = await member_eligible_offers(info, self.id, channel, category)
        return ranked_connection(
            first=first,
            after=after,
            lines=lines,
            node=lambda line: Offer.from_domain(line.offer, line.uses_left, line.reasons, line.estimate),
        )

    @strawberry.field(
        description="Offers this member can use now, ranked for it: what each gives on its typical "
        "basket, times its affinity (spend share and recency in the offer's categories and merchants), "
        "times urgency (ends soon, budget running out), each with reasons to show. Each listing the "
        "member itself reads is recorded as an exposure of the offers listed (the MEMBER itself and "
        "ADMIN; empty for others)."
    )
    async def recommended_offers(
        self,
        info: Info,
        first: First = None,
        context: Annotated[
            Annotated[RecommendationContext, strawberry.lazy("api.types.recommendations")] | None,
            strawberry.argument(description="Where the member is about to buy; omitted: anywhere."),
        ] = None,
    ) -> relay.Connection[
        Annotated[RecommendedOffer, strawberry.lazy("api.types.recommendations")]  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
    ]:
        from api.types.recommendations import recommended_connection

        return await recommended_connection(info, self.id, first, context)

    @strawberry.field(
        description="Coupons in the member's wallet (the MEMBER itself and ADMIN; empty for others)."
    )
    async def coupons(self, info: Info) -> list[Annotated[Coupon, strawberry.lazy("api.types.offers")]]:
        from api.types.offers import Coupon

        async def wallet() -> list[Any]:
            async with (uow := info.context.read_uow_factory()):
                return list(await uow.offers.wallet(self.id))

        return [Coupon.from_domain(c) for c in await retrying(info, wallet)]

    @strawberry.field(
        description="The member's redemptions, newest first (the MEMBER itself and ADMIN; empty for others)."
    )
    async def redemptions(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Annotated[Redemption, strawberry.lazy("api.types.activity")]]:
        from api.types.activity import Redemption

        reader = info.context.reader

        async def fetch(before: int | None, limit: int) -> list[Any]:
            return await reader.redemption_page(self.id, before, limit)

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda r: r.id, node=Redemption.from_domain
        )

    @classmethod
    def from_domain(cls, m: dm.Member, *, listed: bool = False) -> Member:
        return cls(
            id=m.id,
            external_ref=m.external_ref,
            status=m.shown_status,
            status_reason=m.status_reason,
            referral_code=m.referral_code,
            enrolled_at=m.enrolled_at,
            last_activity_at=m.last_activity_at,
            dormant_since=m.dormant_since,
            marketing_consent=m.marketing_consent,
            marketing_consent_at=m.marketing_consent_at,
            closed_at=m.closed_at,
            points_forfeit_at=m.points_forfeit_at,
            profile=MemberProfile(
                birth_year=m.profile.birth_year,
                region=m.profile.region,
                income_band=m.profile.income_band,
                tags=list(m.profile.tags),
                time_zone=m.profile.time_zone,
            ),
            source=m,
            listed=listed,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.Member | None]:
        return await info.context.loaders.members.load_many(ids)

    @classmethod
    async def may_read(cls, info: Info, member: dm.Member) -> bool:
        return await can_read_member(info, member.id)


async def load_member(info: Info, member_id: int) -> Member | None:
    """A member by id, or None when it does not exist or the caller may not read it."""
    if not await can_read_member(info, member_id):
        return None
    member = await info.context.loaders.members.load(member_id)
    return Member.from_domain(member) if member else None
