"""refundPurchase: a merchant gives money back on one of its purchases, and the points go with it."""

from __future__ import annotations

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.mutations.purchases import MoneyInput
from api.permissions import MERCHANT
from api.types.activity import Refund
from api.types.ids import decode_id
from domain import commands
from domain.money import Money
from domain.services.refunds import refund_purchase


@strawberry.input
class RefundPurchaseInput:
    purchase_id: relay.GlobalID
    idempotency_key: str
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="In the purchase's currency; omitted: all that is not yet refunded.",
    )
    reference: str | None = strawberry.field(default=None, description="The merchant's own refund id.")


@strawberry.type
class RefundPurchasePayload:
    refund: Refund | None
    errors: list[UserError]


@strawberry.type
class RefundMutations:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description=(
            "Refund one of the caller's purchases, in full or in part. Its points are taken back in "
            "proportion: pending ones first, then from its own lots, then from the member's available "
            "points; what the member no longer has becomes a debt that later earnings repay first."
        ),
    )
    async def refund_purchase(self, info: Info, input: RefundPurchaseInput) -> RefundPurchasePayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: refund_purchase(
                commands.RefundPurchase(
                    purchase_id=decode_id(input.purchase_id, "Purchase", "purchaseId"),
                    idempotency_key=input.idempotency_key,
                    amount=None
                    if input.amount is None
                    else Money(input.amount.amount_minor, input.amount.currency),
                    reference=input.reference,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        if result is None:
            return RefundPurchasePayload(refund=None, errors=errors)
        return RefundPurchasePayload(refund=Refund.from_domain(result.refund()), errors=[])
