"""A merchant redeems a member's voucher: the reward is handed over."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import MERCHANT
from api.types.catalogue import Reward
from api.types.vouchers import Voucher
from domain.security import Secret
from domain.services.vouchers import RedeemVoucher, redeem_voucher


@strawberry.input(description="The voucher the member showed.")
class RedeemVoucherInput:
    code: str = strawberry.field(description="The voucher's code, as shown or scanned.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The voucher used and the reward to hand over, or why nothing changed.")
class RedeemVoucherPayload:
    voucher: Voucher | None = strawberry.field(description="Null when errors is not empty.")
    reward: Reward | None = strawberry.field(description="The reward to hand over; null on errors.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class VoucherMutations:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Redeem a member's voucher (MERCHANT; rewards name no merchant, so any merchant): the "
        "voucher is USED and its redemption FULFILLED, once. Wrong codes count toward the caller's "
        "guessing lockout; a used, void or expired voucher is refused (ALREADY_FINALIZED, EXPIRED).",
    )
    async def redeem_voucher(
        self,
        info: Info,
        input: Annotated[RedeemVoucherInput, strawberry.argument(description="The voucher's code.")],
    ) -> RedeemVoucherPayload:
        command = RedeemVoucher(code=input.code, idempotency_key=input.idempotency_key)
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: redeem_voucher(command, actor=actor, uow=uow, clock=clock),
            guessing={"code": Secret.VOUCHER},
        )
        if result is None:
            return RedeemVoucherPayload(voucher=None, reward=None, errors=errors)
        reward = None
        if result.reward_id is not None:
            found = await info.context.loaders.rewards.load(result.reward_id)
            reward = Reward.from_domain(found) if found else None
        return RedeemVoucherPayload(voucher=Voucher.from_domain(result.voucher()), reward=reward, errors=[])
