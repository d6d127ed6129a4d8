"""linkMerchant, unlinkMerchant: a member lets a merchant act for it without a code at each visit."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import MEMBER
from api.types.ids import decode_id
from api.types.links import MerchantLink
from domain.services.presence import link_merchant, unlink_merchant


@strawberry.input(description="The merchant to link to.")
class LinkMerchantInput:
    merchant_id: relay.GlobalID = strawberry.field(description="The merchant's global id.")


@strawberry.type(description="The link, or why there is none.")
class LinkMerchantPayload:
    link: MerchantLink | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The merchant to unlink from.")
class UnlinkMerchantInput:
    merchant_id: relay.GlobalID = strawberry.field(description="The merchant's global id.")


@strawberry.type(description="Whether the link was withdrawn, or why not.")
class UnlinkMerchantPayload:
    unlinked: bool = strawberry.field(description="True when the link stood and is now withdrawn.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class LinkMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Link the calling member to a merchant, as when linking an account in its app: the "
        "merchant may then post purchases for the member with the reference this gives it, and read the "
        "member as merchants may. Linking again returns the standing link (MEMBER).",
    )
    async def link_merchant(
        self,
        info: Info,
        input: Annotated[LinkMerchantInput, strawberry.argument(description="The merchant to link to.")],
    ) -> LinkMerchantPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: link_merchant(
                decode_id(input.merchant_id, "Merchant", "merchantId"), actor=actor, uow=uow, now=clock.now()
            ),
        )
        return LinkMerchantPayload(link=MerchantLink.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Withdraw the calling member's link to a merchant: the merchant's reference stops "
        "working for good; linking again gives a new one (MEMBER).",
    )
    async def unlink_merchant(
        self,
        info: Info,
        input: Annotated[
            UnlinkMerchantInput, strawberry.argument(description="The merchant to unlink from.")
        ],
    ) -> UnlinkMerchantPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: unlink_merchant(
                decode_id(input.merchant_id, "Merchant", "merchantId"), actor=actor, uow=uow, now=clock.now()
            ),
        )
        return UnlinkMerchantPayload(unlinked=bool(result), errors=errors)
