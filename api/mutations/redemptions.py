"""redeemReward: a member spends points on a catalogue reward."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.mutations.pos import answered_redemption
from api.permissions import MEMBER
from api.types.activity import Redemption
from api.types.ids import decode_id
from domain import commands
from domain.services.redemptions import redeem_reward
from domain.vouchers import VoucherResult


@strawberry.input(description="The reward to redeem.")
class RedeemRewardInput:
    reward_id: relay.GlobalID = strawberry.field(description="The reward's global id.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The redemption made, or why nothing changed.")
class RedeemRewardPayload:
    redemption: Redemption | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class RedemptionMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Spend the caller's points on a reward (MEMBER). The redemption's voucher code is "
        "in this answer only (redemption.voucher.code): the member shows it to a merchant.",
    )
    async def redeem_reward(
        self,
        info: Info,
        input: Annotated[RedeemRewardInput, strawberry.argument(description="The reward to redeem.")],
    ) -> RedeemRewardPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: redeem_reward(
                commands.RedeemReward(
                    reward_id=decode_id(input.reward_id, "Reward", "rewardId"),
                    idempotency_key=input.idempotency_key,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        if result is None:
            return RedeemRewardPayload(redemption=None, errors=errors)
        if result.voucher is not None:  # answered from the result, as the redemption is
            info.context.loaders.vouchers.prime(
                result.redemption_id, VoucherResult(**result.voucher).voucher()
            )
        redemption = await answered_redemption(info, result)
        if redemption is not None:
            redemption.voucher_code = result.voucher_code
        return RedeemRewardPayload(redemption=redemption, errors=[])
