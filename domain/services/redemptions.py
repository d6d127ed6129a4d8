"""A member spends points on a catalogue reward, and gets the voucher it shows to be handed it
(domain/vouchers.py); the rules a reward's redemption must pass, shared with a reward held at a POS."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta

from domain import events, vouchers
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import RedeemReward
from domain.errors import Forbidden, LimitReached, NotFound, RewardInactive, RewardOutOfStock
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import draw_from_lots
from domain.members import Member
from domain.ports import UnitOfWork
from domain.results import RedemptionResult
from domain.rewards import LimitPeriod, RedemptionStatus, Reward
from domain.risk import Movement, MovementKind
from domain.services.common import active_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry
from domain.services.risk import refuse_risky_redemption
from domain.tiers import effective_tier_id

_PER = {
    LimitPeriod.DAY: " per day",
    LimitPeriod.WEEK: " per week",
    LimitPeriod.MONTH: " per month",
    LimitPeriod.YEAR: " per year",
    LimitPeriod.EVER: "",
}


async def redeemable_reward(
    uow: UnitOfWork, reward_id: int, member: Member, now: datetime, field: tuple[str, ...] = ("rewardId",)
) -> Reward:
    """The reward, if this member may redeem one more of it now. Call with the member's balance row
    locked: the member's earlier redemptions are counted under that lock, so racing redemptions
    cannot both take the last one the limit allows."""
    reward = await uow.rewards.get(reward_id)
    if reward is None:
        raise NotFound("no such reward", field)
    if not reward.active:
        raise RewardInactive("this reward is no longer offered", field)
    if reward.tier_ids is not None and not reward.open_to(
        effective_tier_id(member, await uow.tiers.ladder())
    ):
        raise Forbidden("this reward is reserved for members of other tiers", field)
    if reward.stock is not None and reward.stock <= 0:
        raise RewardOutOfStock("this reward is out of stock", field)
    if reward.per_member_limit is not None:
        used = await uow.redemptions.count_towards_limit(member.id, reward.id, reward.limit_window_start(now))
        if used >= reward.per_member_limit:
            per = _PER[reward.limit_period or LimitPeriod.EVER]
            raise LimitReached(f"this reward can be redeemed {reward.per_member_limit} times{per}", field)
    return reward


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
        # The member's balance row first: it serializes the member's redemptions (the limit's count).
        await lock_members(uow, [member.id])
        await expire_member_lots(uow, member.id, now)  # an expired point is never spent
        reward = await redeemable_reward(uow, cmd.reward_id, member, now)
        await refuse_risky_redemption(uow, Movement(MovementKind.REDEEM, member.id, reward.cost_points, now))

        redemption = await uow.redemptions.add(
            member_id=member.id,
            reward_id=reward.id,
            points=reward.cost_points,
            status=RedemptionStatus.REQUESTED,
            at=now,
        )
        # The lock order (domain.services.posting): the member's balance row, then the reward's stock.
        entry_id = await post_entry(
            uow,
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
        code = vouchers.new_code()
        valid_days = (await uow.programme.get()).voucher_valid_days
        voucher = await uow.vouchers.add(
            redemption_id=redemption.id,
            member_id=member.id,
            code=code,
            code_hash=vouchers.code_hash(code),
            expires_at=now + timedelta(days=valid_days),
            at=now,
        )
        result = RedemptionResult.of(redemption, reward.cost_points)
        await uow.outbox.add(
            events.redemption_requested(
                member_id=member.id,
                redemption_id=redemption.id,
                reward_id=reward.id,
                points=reward.cost_points,
                at=now,
            )
        )
        if member.dormant_since is not None:
            await uow.outbox.add(
                events.member_woken(member_id=member.id, dormant_since=member.dormant_since, at=now)
            )
        return replace(
            result, voucher=asdict(vouchers.VoucherResult.of(voucher, reward.id)), voucher_code=code
        )

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)
