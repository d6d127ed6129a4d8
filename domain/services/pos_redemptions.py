"""Two-phase redemption at a merchant's POS, with the member's one-time code as proof of presence.

The member's wallet creates a short-lived code; the merchant authorizes with it, which holds the
points (available -> held, drawing lots, for `programme.hold_minutes`); the merchant then captures
(spends part or all of the hold; the rest goes back) or voids (all goes back). A hold nobody
resolves in time is released by `run_hold_release`. Locks follow the one lock order
(`domain.services.posting`): the code row, the member's balance row, the redemption row, the
reward's stock row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain import events, redemption_codes, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import AuthorizeRedemption, CaptureRedemption, VoidRedemption
from domain.errors import (
    AlreadyFinalized,
    Forbidden,
    InvalidCode,
    NotFound,
    RewardOutOfStock,
    Validation,
)
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import draw_from_lots
from domain.ports import UnitOfWork
from domain.results import IssuedCode, RedemptionResult
from domain.rewards import Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.risk import Movement, MovementKind
from domain.services.common import active_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.holds import merchant_name, release_held
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry
from domain.services.redemptions import redeemable_reward
from domain.services.risk import refuse_risky_redemption

# The same words whether the code never existed, was used, or expired: nothing about whose it was.
INVALID_CODE = "the code is invalid or has expired"
_CODE_ATTEMPTS = 5  # fresh codes drawn if one's hash is taken (at ~50 bits, practically never)


async def create_redemption_code(*, actor: Actor, uow: UnitOfWork, clock: Clock) -> IssuedCode:
    """A new one-time code for the calling member; older unexpired codes stay valid until they expire."""
    require_role(actor, Role.MEMBER)
    member_id = actor.member_id
    if member_id is None:
        raise Forbidden("the token names no member")
    now = clock.now()
    expires_at = now + redemption_codes.TTL
    async with uow:
        await active_member(uow, member_id)
        for _ in range(_CODE_ATTEMPTS):
            code = redemption_codes.new_code()
            if await uow.redemption_codes.add(member_id, redemption_codes.code_hash(code), expires_at, now):
                await uow.commit()
                return IssuedCode(code, expires_at)
    raise RuntimeError("could not draw an unused redemption code")


def _merchant_of(actor: Actor) -> int:
    require_role(actor, Role.MERCHANT)
    if actor.merchant_id is None:
        raise Forbidden("the token names no merchant")
    return actor.merchant_id


async def authorize_redemption(
    cmd: AuthorizeRedemption, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedemptionResult:
    merchant_id = _merchant_of(actor)
    if (cmd.points is None) == (cmd.reward_id is None):
        raise Validation("give either points or rewardId", ("points",))
    if cmd.points is not None:
        validation.positive_int(cmd.points, ("points",))
    if len(cmd.code) > redemption_codes.MAX_INPUT or not redemption_codes.well_formed(cmd.code):
        raise InvalidCode(INVALID_CODE, ("code",))
    now = clock.now()

    async def work() -> RedemptionResult:
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("no such merchant")
        # Used here, in this transaction: when anything below refuses, the code is still unused.
        member_id = await uow.redemption_codes.use(redemption_codes.code_hash(cmd.code), now)
        if member_id is None:
            raise InvalidCode(INVALID_CODE, ("code",))
        member = await active_member(uow, member_id, "code")
        await lock_members(uow, [member.id])
        await expire_member_lots(uow, member.id, now)  # an expired point is never held
        reward: Reward | None = None
        if cmd.reward_id is not None:
            reward = await redeemable_reward(uow, cmd.reward_id, member, now)
        points = reward.cost_points if reward is not None else cmd.points
        assert points is not None
        await refuse_risky_redemption(uow, Movement(MovementKind.REDEEM, member.id, points, now))
        programme = await uow.programme.get()
        until = now + timedelta(minutes=programme.hold_minutes)
        hold = await uow.redemptions.add(
            member_id=member.id,
            reward_id=reward.id if reward is not None else None,
            points=points,
            status=RedemptionStatus.AUTHORIZED,
            at=now,
            kind=RedemptionKind.POS,
            merchant_id=merchant.id,
            hold_expires_at=until,
        )
        what = f" for {reward.name}" if reward is not None else ""
        entry_id = await post_entry(
            uow,
            transfer(
                kind=EntryKind.HOLD,
                member_id=member.id,
                origin_type=OriginType.REDEMPTION,
                origin_id=hold.id,
                source=Account.available(member.id),
                destination=Account(AccountKind.MEMBER_HELD, member.id),
                points=points,
                description=f"Held at {merchant.name}{what} until {until:%H:%M} UTC",
            ),
            now,
        )
        draws = draw_from_lots(await uow.lots.spendable(member.id), points)
        await uow.lots.consume(entry_id, member.id, draws, now)
        if reward is not None and not await uow.rewards.take_one(reward.id, reward.cost_points):
            raise RewardOutOfStock("this reward is out of stock", ("rewardId",))
        balance = await uow.ledger.balance(member.id)
        await uow.outbox.add(
            events.redemption_held(
                member_id=member.id,
                redemption_id=hold.id,
                merchant_id=merchant.id,
                points=points,
                expires_at=until,
                at=now,
            )
        )
        if member.dormant_since is not None:
            await uow.outbox.add(
                events.member_woken(member_id=member.id, dormant_since=member.dormant_since, at=now)
            )
        return RedemptionResult.of(hold, points, None if balance is None else balance.available)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)


async def _own_hold(uow: UnitOfWork, merchant_id: int, redemption_id: int) -> Redemption:
    """The POS hold this merchant authorized; any other redemption is, to this merchant, not found."""
    hold = await uow.redemptions.get(redemption_id)
    if hold is None or hold.kind is not RedemptionKind.POS or hold.merchant_id != merchant_id:
        raise NotFound("no such redemption", ("redemptionId",))
    return hold


async def _locked_open_hold(uow: UnitOfWork, merchant_id: int, redemption_id: int) -> Redemption:
    """The hold, read again once its member's balance row is locked, and still AUTHORIZED."""
    hold = await _own_hold(uow, merchant_id, redemption_id)
    await lock_members(uow, [hold.member_id])
    hold = await _own_hold(uow, merchant_id, redemption_id)
    if hold.status is not RedemptionStatus.AUTHORIZED:
        raise AlreadyFinalized(f"this redemption is already {hold.status.value.lower()}", ("redemptionId",))
    return hold


def _lost_race() -> AlreadyFinalized:
    return AlreadyFinalized("this redemption was resolved meanwhile", ("redemptionId",))


async def capture_redemption(
    cmd: CaptureRedemption, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedemptionResult:
    merchant_id = _merchant_of(actor)
    if cmd.points is not None:
        validation.positive_int(cmd.points, ("points",))
    now = clock.now()

    async def work() -> RedemptionResult:
        hold = await _locked_open_hold(uow, merchant_id, cmd.redemption_id)
        if hold.hold_lapsed(now):
            raise AlreadyFinalized("the hold expired; authorize again", ("redemptionId",))
        points = hold.points if cmd.points is None else cmd.points
        if points > hold.points:
            raise Validation(f"at most the {hold.points} points held can be captured", ("points",))
        if hold.reward_id is not None and points != hold.points:
            raise Validation("a reward's hold is captured whole", ("points",))
        if cmd.purchase_id is not None:
            purchase = await uow.purchases.get(cmd.purchase_id)
            owners = (purchase.merchant_id, purchase.member_id) if purchase is not None else None
            if owners != (merchant_id, hold.member_id):
                raise NotFound("no such purchase of this member at this merchant", ("purchaseId",))
            # Its refunds give paid points back in proportion of all it cost: points paid after a
            # refund began would come back wrong. (Read under the member's lock, as refunds take it.)
            if purchase is not None and purchase.refunded_minor > 0:
                raise Validation("this purchase has been refunded; capture without it", ("purchaseId",))
        if not await uow.redemptions.finish(
            hold.id,
            from_status=RedemptionStatus.AUTHORIZED,
            to_status=RedemptionStatus.CAPTURED,
            at=now,
            captured_points=points,
            purchase_id=cmd.purchase_id,
        ):
            raise _lost_race()
        name = await merchant_name(uow, hold.merchant_id)
        await post_entry(
            uow,
            transfer(
                kind=EntryKind.REDEEM,
                member_id=hold.member_id,
                origin_type=OriginType.REDEMPTION,
                origin_id=hold.id,
                source=Account(AccountKind.MEMBER_HELD, hold.member_id),
                destination=Account(AccountKind.REDEMPTION),
                points=points,
                description=f"Spent at {name}",
            ),
            now,
        )
        await release_held(uow, hold, points, f"Released: the rest of the hold at {name}", now)
        captured = replace(
            hold,
            status=RedemptionStatus.CAPTURED,
            captured_points=points,
            purchase_id=cmd.purchase_id,
            finalized_at=now,
        )
        await uow.outbox.add(
            events.redemption_captured(
                member_id=hold.member_id,
                redemption_id=hold.id,
                merchant_id=hold.merchant_id,
                points=points,
                at=now,
            )
        )
        return RedemptionResult.of(captured, points)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)


async def void_redemption(
    cmd: VoidRedemption, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedemptionResult:
    """All the held points go back, and a reward's unit to stock; allowed on a lapsed hold the job
    has not released yet."""
    merchant_id = _merchant_of(actor)
    now = clock.now()

    async def work() -> RedemptionResult:
        hold = await _locked_open_hold(uow, merchant_id, cmd.redemption_id)
        if not await uow.redemptions.finish(
            hold.id, from_status=RedemptionStatus.AUTHORIZED, to_status=RedemptionStatus.VOIDED, at=now
        ):
            raise _lost_race()
        name = await merchant_name(uow, hold.merchant_id)
        released = await release_held(uow, hold, 0, f"Released: the hold at {name} was voided", now)
        if hold.reward_id is not None:
            await uow.rewards.give_back_one(hold.reward_id)
        voided = replace(hold, status=RedemptionStatus.VOIDED, finalized_at=now)
        await uow.outbox.add(
            events.redemption_voided(
                member_id=hold.member_id,
                redemption_id=hold.id,
                merchant_id=hold.merchant_id,
                points_returned=released,
                at=now,
            )
        )
        return RedemptionResult.of(voided, released)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)
