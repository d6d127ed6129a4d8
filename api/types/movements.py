"""The facts behind transfer, expiry and bonus ledger entries, so a ledger entry's originId resolves."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from api.access import can_read_purchase, can_read_transfer, owns_member_data, readable_offers
from api.context import Info
from api.types.ids import node_ints
from api.types.members import Member, load_member
from domain import movements as dm

if TYPE_CHECKING:
    from api.types.activity import Purchase
    from api.types.offers import Offer


@strawberry.type(description="Points one member gave another; both of them may read it.")
class Transfer(relay.Node):
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
    async def resolve_nodes(  # type: ignore[override]  # narrower than relay's generic one
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Transfer | None]:
        found = await info.context.loaders.transfers.load_many(node_ints(node_ids))
        return [cls.from_domain(t) if t and can_read_transfer(info, t) else None for t in found]


@strawberry.type(description="Points a member lost when its lots reached their expiry date.")
class Expiration(relay.Node):
    id: relay.NodeID[int]
    points: int = strawberry.field(description="The points that expired.")
    created_at: datetime = strawberry.field(description="When they expired.")
    member_id: strawberry.Private[int]

    @strawberry.field(description="The member, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # narrower than relay's generic one
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Expiration | None]:
        found = await info.context.loaders.expirations.load_many(node_ints(node_ids))
        return [
            cls(id=e.id, points=e.points, created_at=e.created_at, member_id=e.member_id)
            if e and owns_member_data(info, e.member_id)
            else None
            for e in found
        ]


@strawberry.type(description="A bonus an offer gave a member on sign-up, or for a referral.")
class MemberAward(relay.Node):
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
    async def resolve_nodes(  # type: ignore[override]  # narrower than relay's generic one
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MemberAward | None]:
        found = await info.context.loaders.member_awards.load_many(node_ints(node_ids))
        return [
            cls(
                id=a.id,
                reason=a.reason,
                points=a.points,
                created_at=a.created_at,
                member_id=a.member_id,
                offer_id=a.offer_id,
                purchase_id=a.purchase_id,
            )
            if a and owns_member_data(info, a.member_id)
            else None
            for a in found
        ]
