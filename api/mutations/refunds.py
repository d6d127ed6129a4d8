"""refundPurchase: a merchant gives money back on one of its purchases, and the points go with it."""

from __future__ import annotations

from typing import Annotated

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


@strawberry.input(description="The purchase to refund, and how much.")
class RefundPurchaseInput:
    purchase_id: relay.GlobalID = strawberry.field(description="The purchase's global id.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="In the purchase's currency; omitted: all that is not yet refunded.",
    )
    reference: str | None = strawberry.field(default=None, description="The merchant's own refund id.")


@strawberry.type(description="The refund made, or why nothing changed.")
class RefundPurchasePayload:
    refund: Refund | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class RefundMutations:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description=(
            "Refund one of the caller's purchases (MERCHANT), in full or in part. Its points are taken back "
            "in proportion: pending ones first, then from its own lots, then from the member's available "
            "points; what the member no longer has becomes a debt that later earnings repay first."
        ),
    )
    async def refund_purchase(
        self,
        info: Info,
        input: Annotated[
            RefundPurchaseInput, strawberry.argument(description="The purchase and the amount to refund.")
        ],
    ) -> RefundPurchasePayload:
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
