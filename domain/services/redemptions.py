"""A member spends points on a catalogue reward."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import RedeemReward
from domain.errors import Forbidden, NotFound, RewardInactive, RewardOutOfStock
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import draw_from_lots
from domain.ports import UnitOfWork
from domain.results import RedemptionResult
from domain.rewards import RedemptionStatus
from domain.services.common import active_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once


async def redeem_reward(
    cmd: RedeemReward, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedemptionResult:
    require_role(actor, Role.MEMBER)
    member_id = actor.member_id
    if member_id is None:
        raise Forbidden("the token names no member")
    now = clock.now()

    async def work() -> RedemptionResult:
        member = await active_member(uow, member_id)
        await expire_member_lots(uow, member.id, now)  # an expired point is never spent
        reward = await uow.rewards.get(cmd.reward_id)
        if reward is None:
            raise NotFound("no such reward", ("rewardId",))
        if not reward.active:
            raise RewardInactive("this reward is no longer offered", ("rewardId",))
        if reward.stock is not None and reward.stock <= 0:
            raise RewardOutOfStock("this reward is out of stock", ("rewardId",))

        redemption = await uow.redemptions.add(
            member_id=member.id,
            reward_id=reward.id,
            points=reward.cost_points,
            status=RedemptionStatus.REQUESTED,
            at=now,
        )
        # Lock order: the member's balance row first (inside post), then the reward's stock row.
        entry_id = await uow.ledger.post(
            transfer(
                kind=EntryKind.REDEEM,
                member_id=member.id,
                origin_type=OriginType.REDEMPTION,
                origin_id=redemption.id,
                source=Account.available(member.id),
                destination=Account(AccountKind.REDEMPTION),
                points=reward.cost_points,
                description=f"Redeemed for {reward.name}",
            ),
            now,
        )
        draws = draw_from_lots(await uow.lots.spendable(member.id), reward.cost_points)
        await uow.lots.consume(entry_id, member.id, draws, now)
        if not await uow.rewards.take_one(reward.id, reward.cost_points):
            raise RewardOutOfStock("this reward is out of stock", ("rewardId",))
        return RedemptionResult(redemption.id, member.id, reward.cost_points)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)
