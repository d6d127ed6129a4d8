"""postPurchase: a merchant posts a purchase that earns points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import ErrorCode, UserError
from api.mutations.payload import run_use_case
from api.permissions import MERCHANT_OR_PROCESSOR
from api.presented import presented_member, presented_secrets
from api.types.activity import Purchase
from api.types.enums import Channel
from api.types.ids import decode_id
from domain import commands
from domain.money import Money
from domain.results import award_from_json
from domain.security import Secret
from domain.services.purchases import post_purchase


@strawberry.input(description="An amount of money in one currency.")
class MoneyInput:
    amount_minor: int = strawberry.field(description="Integer minor units, e.g. 12345 for CNY 123.45.")
    currency: str = strawberry.field(description="ISO 4217 code accepted by the programme.")


@strawberry.input(
    description="A purchase a merchant made with a member. The buyer is named in exactly one way: a "
    "MERCHANT by memberCode or memberRef (what the member gave it), a PROCESSOR by memberId or "
    "memberExternalRef."
)
class PostPurchaseInput:
    member_code: str | None = strawberry.field(
        default=None,
        description="MERCHANT: the one-time code the member's wallet shows at the till; it serves this "
        "checkout's earning and its payment (authorizeRedemption) once each.",
    )
    member_ref: str | None = strawberry.field(
        default=None, description="MERCHANT: the reference the member's link to this merchant gave it."
    )
    member_id: relay.GlobalID | None = strawberry.field(
        default=None, description="PROCESSOR: the buyer's global id."
    )
    member_external_ref: str | None = strawberry.field(
        default=None, description="PROCESSOR: the buyer's externalRef (the bank's customer number)."
    )
    merchant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="PROCESSOR: the merchant the card was used at (a MERCHANT's is its own)."
    )
    amount: MoneyInput = strawberry.field(description="What the purchase cost, before discounts.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When the member bought; omitted: now."
    )
    channel: Channel | None = strawberry.field(
        default=None, description="Online or in store; omitted: from the merchant."
    )
    reference: str | None = strawberry.field(default=None, description="The merchant's own order id.")
    coupon_code: str | None = strawberry.field(default=None, description="A coupon the member presented.")


@strawberry.type(description="The purchase posted, or why nothing changed.")
class PostPurchasePayload:
    purchase: Purchase | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")
    notices: list[UserError] = strawberry.field(
        description="The purchase was accepted with a reservation: RISK_REVIEW when a risk rule held its "
        "points in the member's review balance until an admin decides. Empty otherwise."
    )


@strawberry.type
class PurchaseMutations:
    @strawberry.mutation(
        permission_classes=MERCHANT_OR_PROCESSOR,
        description="Post a purchase: a MERCHANT's at its own merchant, for the member that presented "
        "itself (its code or its link); a PROCESSOR's (the bank's card processing) for any member at the "
        "merchant it names. Without a code or link the merchant gets one and the same NOT_FOUND on the "
        "field it used, whether the member exists, is locked, or not.",
    )
    async def post_purchase(
        self,
        info: Info,
        input: Annotated[PostPurchaseInput, strawberry.argument(description="The purchase to post.")],
    ) -> PostPurchasePayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: post_purchase(
                commands.PostPurchase(
                    member=presented_member(input) or commands.PresentedMember(),
                    merchant_id=None
                    if input.merchant_id is None
                    else decode_id(input.merchant_id, "Merchant", "merchantId"),
                    amount=Money(input.amount.amount_minor, input.amount.currency),
                    idempotency_key=input.idempotency_key,
                    occurred_at=input.occurred_at,
                    channel=input.channel,
                    reference=input.reference,
                    coupon_code=input.coupon_code,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
            guessing=presented_secrets(input)
            | ({} if input.coupon_code is None else {"couponCode": Secret.COUPON_CODE}),
        )
        if result is None:
            return PostPurchasePayload(purchase=None, errors=errors, notices=[])
        purchase = result.purchase()
        info.context.loaders.purchases.prime(purchase.id, purchase)
        info.context.loaders.awards.prime(purchase.id, [award_from_json(a) for a in result.awards])
        notices = []
        if result.risk_notice is not None:
            notices.append(UserError(code=ErrorCode.RISK_REVIEW, field=None, message=result.risk_notice))
        return PostPurchasePayload(purchase=Purchase.from_domain(purchase), errors=[], notices=notices)
