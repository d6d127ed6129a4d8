"""The facts behind transfer, expiry and bonus ledger entries, so a ledger entry's originId resolves."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from api.access import can_read_purchase, can_read_transfer, owns_member_data, readable_offers
from api.context import Info
from api.types.members import Member, load_member
from api.types.nodes import LoadedNode
from domain import movements as dm

if TYPE_CHECKING:
    from api.types.activity import Purchase
    from api.types.offers import Offer


@strawberry.type(description="Points one member gave another; both of them may read it.")
class Transfer(LoadedNode[dm.Transfer]):
    id: relay.NodeID[int]
    points: int = strawberry.field(description="The points given.")
    created_at: datetime = strawberry.field(description="When they were given.")
    member_id: strawberry.Private[int]
    to_member_id: strawberry.Private[int]

    @strawberry.field(description="Who gave the points (null when the caller may not read that member).")
    async def sender(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @strawberry.field(description="Who received them (null when the caller may not read that member).")
    async def receiver(self, info: Info) -> Member | None:
        return await load_member(info, self.to_member_id)

    @classmethod
    def from_domain(cls, t: dm.Transfer) -> Transfer:
        return cls(
            id=t.id,
            points=t.points,
            created_at=t.created_at,
            member_id=t.member_id,
            to_member_id=t.to_member_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.Transfer | None]:
        return await info.context.loaders.transfers.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, transfer: dm.Transfer) -> bool:
        return can_read_transfer(info, transfer)


@strawberry.type(description="Points a member lost when its lots reached their expiry date.")
class Expiration(LoadedNode[dm.Expiration]):
    id: relay.NodeID[int]
    points: int = strawberry.field(description="The points that expired.")
    created_at: datetime = strawberry.field(description="When they expired.")
    member_id: strawberry.Private[int]

    @strawberry.field(description="The member, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @classmethod
    def from_domain(cls, e: dm.Expiration) -> Expiration:
        return cls(id=e.id, points=e.points, created_at=e.created_at, member_id=e.member_id)

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.Expiration | None]:
        return await info.context.loaders.expirations.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, expiration: dm.Expiration) -> bool:
        return owns_member_data(info, expiration.member_id)


@strawberry.type(description="A bonus an offer gave a member on sign-up, or for a referral.")
class MemberAward(LoadedNode[dm.MemberAward]):
    id: relay.NodeID[int]
    reason: str = strawberry.field(description="SIGN_UP or REFERRAL.")
    points: int = strawberry.field(description="The points given.")
    created_at: datetime = strawberry.field(description="When they were given.")
    member_id: strawberry.Private[int]
    offer_id: strawberry.Private[int]
    purchase_id: strawberry.Private[int | None]

    @strawberry.field(description="The member given them, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @strawberry.field(description="The offer that gave it, when the caller may read that offer by its id.")
    async def offer(self, info: Info) -> Annotated[Offer, strawberry.lazy("api.types.offers")] | None:
        from api.types.offers import Offer

        offer = await info.context.loaders.offers.load(self.offer_id)
        [readable] = await readable_offers(info, [offer])
        return Offer.from_domain(offer) if offer and readable else None

    @strawberry.field(description="For a referral: the referred member's purchase it came from.")
    async def purchase(self, info: Info) -> Annotated[Purchase, strawberry.lazy("api.types.activity")] | None:
        from api.types.activity import Purchase

        if self.purchase_id is None:
            return None
        purchase = await info.context.loaders.purchases.load(self.purchase_id)
        return Purchase.from_domain(purchase) if purchase and can_read_purchase(info, purchase) else None

    @classmethod
    def from_domain(cls, a: dm.MemberAward) -> MemberAward:
        return cls(
            id=a.id,
            reason=a.reason,
            points=a.points,
            created_at=a.created_at,
            member_id=a.member_id,
            offer_id=a.offer_id,
            purchase_id=a.purchase_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.MemberAward | None]:
        return await info.context.loaders.member_awards.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, award: dm.MemberAward) -> bool:
        return owns_member_data(info, award.member_id)
