"""A member's standing link to a merchant, as the member and the merchant see it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.access import can_read_catalogue
from api.context import Info
from api.types.catalogue import Merchant
from api.types.members import Member, load_member
from domain.member_links import MerchantLink as DomainLink


@strawberry.type(
    description="A member's standing link to a merchant: the merchant acts for the member with the "
    "reference it gives, never the member's id (the MEMBER's own links; a MERCHANT's own)."
)
class MerchantLink:
    member_ref: str = strawberry.field(
        description="The merchant's reference for the member, for postPurchase's memberRef and settlement "
        "files; it means nothing to any other merchant and stops working for good when the member unlinks."
    )
    linked_at: datetime = strawberry.field(description="When the member linked.")
    merchant_id: strawberry.Private[int]
    member_id: strawberry.Private[int]

    @strawberry.field(description="The merchant linked to.")
    async def merchant(self, info: Info) -> Merchant | None:
        if not can_read_catalogue(info):
            return None
        found = await info.context.loaders.merchants.load(self.merchant_id)
        return Merchant.from_domain(found) if found else None

    @strawberry.field(description="The member, as far as the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @classmethod
    def from_domain(cls, link: DomainLink) -> MerchantLink:
        return cls(
            member_ref=link.member_ref,
            linked_at=link.linked_at,
            merchant_id=link.merchant_id,
            member_id=link.member_id,
        )
