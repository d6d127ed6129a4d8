"""postPurchase: a merchant posts a purchase that earns points."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import MERCHANT
from api.types.activity import Purchase
from api.types.enums import Channel
from api.types.ids import decode_id
from domain import commands
from domain.money import Money
from domain.results import award_from_json
from domain.security import Secret
from domain.services.purchases import post_purchase


@strawberry.input
class MoneyInput:
    amount_minor: int = strawberry.field(description="Integer minor units, e.g. 12345 for CNY 123.45.")
    currency: str = strawberry.field(description="ISO 4217 code accepted by the programme.")


@strawberry.input
class PostPurchaseInput:
    member_id: relay.GlobalID
    amount: MoneyInput
    idempotency_key: str
    occurred_at: datetime | None = None
    channel: Channel | None = None  # type: ignore[valid-type]
    reference: str | None = strawberry.field(default=None, description="The merchant's own order id.")
    coupon_code: str | None = None


@strawberry.type
class PostPurchasePayload:
    purchase: Purchase | None
    errors: list[UserError]


@strawberry.type
class PurchaseMutations:
    @strawberry.mutation(permission_classes=MERCHANT, description="Post a purchase at the caller's merchant.")
    async def post_purchase(self, info: Info, input: PostPurchaseInput) -> PostPurchasePayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: post_purchase(
                commands.PostPurchase(
                    member_id=decode_id(input.member_id, "Member", "memberId"),
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
            guessing=None if input.coupon_code is None else (Secret.COUPON_CODE, "couponCode"),
        )
        if result is None:
            return PostPurchasePayload(purchase=None, errors=errors)
        purchase = result.purchase()
        info.context.loaders.purchases.prime(purchase.id, purchase)
        info.context.loaders.awards.prime(purchase.id, [award_from_json(a) for a in result.awards])
        return PostPurchasePayload(purchase=Purchase.from_domain(purchase), errors=[])
