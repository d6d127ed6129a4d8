"""Members, their balances and their ledger."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from api.access import can_read_member, member_eligible_offers, owns_member_data
from api.context import Info
from api.mutations.payload import retrying
from api.types.enums import Channel, EntryKind, IncomeBand, LedgerAccount, MemberStatus, MerchantCategory
from api.types.ids import encode_id, node_ints
from api.types.pagination import After, First, connection
from domain import ledger as dl
from domain import members as dm
from domain.actors import Role

if TYPE_CHECKING:
    from api.types.activity import Redemption
    from api.types.offers import Coupon, Offer
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


@strawberry.type(description="Contact data: full for the member and admins, masked for partners.")
class MemberContact:
    phone: str | None = strawberry.field(description="The phone number, masked for partners.")
    email: str | None = strawberry.field(description="The email address, masked for partners.")


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
class Member(relay.Node):
    id: relay.NodeID[int]
    external_ref: str = strawberry.field(description="The bank's or wallet's own customer id.")
    status: MemberStatus = strawberry.field(description="Whether it may earn and spend.")
    status_reason: str | None = strawberry.field(description="Why an admin last locked or unlocked it.")
    referral_code: str = strawberry.field(
        description="The code others give at enrolment to name it as their referrer."
    )
    enrolled_at: datetime = strawberry.field(description="When it joined.")
    profile: MemberProfile = strawberry.field(description="What offers may target it by.")
    last_activity_at: datetime | None = strawberry.field(
        description="Enrolment, or the member's own last earn, redemption, hold or transfer."
    )
    dormant_since: datetime | None = strawberry.field(
        description="When the dormancy job found the member idle (status DORMANT); null once it acts."
    )
    source: strawberry.Private[dm.Member]

    @strawberry.field(
        description="Full for the MEMBER itself and ADMIN, masked for PARTNER, null for MERCHANT."
    )
    def contact(self, info: Info) -> MemberContact | None:
        actor = info.context.actor
        contact = self.source.contact
        if owns_member_data(info, self.id):
            return MemberContact(phone=contact.phone, email=contact.email)
        if actor is not None and actor.role is Role.PARTNER:
            return MemberContact(phone=dm.mask_phone(contact.phone), email=dm.mask_email(contact.email))
        return None  # merchants never see contact data

    @strawberry.field(description="Its points, by account.")
    async def balance(self, info: Info) -> PointsBalance:
        balance = await info.context.loaders.balances.load(self.id)
        if balance is None:
            raise RuntimeError(f"member {self.id} has no balance row")
        return PointsBalance.from_domain(balance)

    @strawberry.field(
        description="The member's tier: the one it holds, or the entry tier; null when there are no tiers."
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

        if not owns_member_data(info, self.id):
            return None
        found = await info.context.loaders.tier_progress.load(self.source)
        return None if found is None else TierProgress.from_domain(found)

    @strawberry.field(description="The member's tier changes, newest first (the MEMBER itself and ADMIN).")
    async def tier_history(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Annotated[TierChange, strawberry.lazy("api.types.tiers")]]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        from api.types.tiers import TierChange

        reader = info.context.reader
        visible = owns_member_data(info, self.id)
        ladder = await info.context.loaders.ladder() if visible else []

        async def fetch(before: int | None, limit: int) -> list[Any]:
            return await reader.tier_change_page(self.id, before, limit) if visible else []

        return await connection(
            first=first,
            after=after,
            fetch=fetch,
            key=lambda c: c.id,
            node=lambda c: TierChange.from_domain(c, ladder),
        )

    @strawberry.field(description="The member's movements, newest first.")
    async def ledger(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[LedgerEntry]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        reader = info.context.reader
        visible = owns_member_data(info, self.id)

        async def fetch(before: int | None, limit: int) -> list[dl.MemberPosting]:
            return await reader.ledger_page(self.id, before, limit) if visible else []

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda p: p.id, node=LedgerEntry.from_domain
        )

    @strawberry.field(
        description="Offers this member can use now, soonest ending first (the MEMBER itself only)."
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

        pairs = await member_eligible_offers(info, self.id, channel, category)
        found = [(position, offer, left) for position, (offer, left) in enumerate(pairs, start=1)]

        async def fetch(after_position: int | None, limit: int) -> list[tuple[int, Any, int | None]]:
            start = after_position or 0
            return found[start : start + limit]

        return await connection(
            first=first,
            after=after,
            fetch=fetch,
            key=lambda item: item[0],
            node=lambda item: Offer.from_domain(item[1], uses_left=item[2]),
        )

    @strawberry.field(description="Coupons in the member's wallet (the MEMBER itself only).")
    async def coupons(self, info: Info) -> list[Annotated[Coupon, strawberry.lazy("api.types.offers")]]:
        from api.types.offers import Coupon

        if not owns_member_data(info, self.id):
            return []

        async def wallet() -> list[Any]:
            async with (uow := info.context.read_uow_factory()):
                return list(await uow.offers.wallet(self.id))

        return [Coupon.from_domain(c) for c in await retrying(info, wallet)]

    @strawberry.field(description="The member's redemptions, newest first.")
    async def redemptions(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Annotated[Redemption, strawberry.lazy("api.types.activity")]]:
        from api.types.activity import Redemption

        reader = info.context.reader
        visible = owns_member_data(info, self.id)

        async def fetch(before: int | None, limit: int) -> list[Any]:
            return await reader.redemption_page(self.id, before, limit) if visible else []

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda r: r.id, node=Redemption.from_domain
        )

    @classmethod
    def from_domain(cls, m: dm.Member) -> Member:
        return cls(
            id=m.id,
            external_ref=m.external_ref,
            status=m.shown_status,
            status_reason=m.status_reason,
            referral_code=m.referral_code,
            enrolled_at=m.enrolled_at,
            last_activity_at=m.last_activity_at,
            dormant_since=m.dormant_since,
            profile=MemberProfile(
                birth_year=m.profile.birth_year,
                region=m.profile.region,
                income_band=m.profile.income_band,
                tags=list(m.profile.tags),
            ),
            source=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # narrower than relay's generic one
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Member | None]:
        found = await info.context.loaders.members.load_many(node_ints(node_ids))
        return [cls.from_domain(m) if m and await can_read_member(info, m.id) else None for m in found]


async def load_member(info: Info, member_id: int) -> Member | None:
    """A member by id, or None when it does not exist or the caller may not read it."""
    if not await can_read_member(info, member_id):
        return None
    member = await info.context.loaders.members.load(member_id)
    return Member.from_domain(member) if member else None
