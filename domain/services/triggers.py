"""Triggered campaigns: admins define triggers; the reactions consumer applies them to outbox events.

The consumer takes committed outbox events not yet handled (`SKIP LOCKED` on PostgreSQL, so several
consumers share the work), and in one transaction per batch: tells members of their tier changes,
and fires each active trigger whose event type and condition match. A firing is written under a
unique (trigger, event) key before its effects, in the same transaction: a replayed event, or one a
second consumer handles at the same time, finds the key taken and does nothing, so each trigger's
effects happen once per event.

Awards go through the offer's budget and caps (`uow.offers.claim`) and the posting path, as member
awards of the offer (reason TRIGGER), so the offer's usage counts them; coupons are the offer's own,
claimed into the member's wallet; notifications follow the marketing rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain import events
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import NotFound
from domain.events import Event, EventType
from domain.members import Member, MemberStatus
from domain.merchants import MerchantCategory
from domain.notifications import NotificationKind
from domain.offers import BonusReason, OfferStatus, SkipReason, cap_period_start
from domain.ports import UnitOfWork
from domain.programme import Programme
from domain.services.admin import audit_event
from domain.services.bonuses import give_bonus
from domain.services.common import require_role
from domain.services.notifications import notify
from domain.services.offer_claims import claim_award
from domain.services.offers import new_coupon_code
from domain.services.posting import lock_members
from domain.triggers import (
    Action,
    ActionKind,
    Condition,
    ConditionKind,
    Facts,
    Outcome,
    Trigger,
    TriggerStatus,
    matches,
    validated,
)

TRIGGER = BonusReason.TRIGGER.value  # member_awards.reason of a trigger's award
BATCH = 100

# Admin use cases


@dataclass(frozen=True, slots=True)
class TriggerInput:
    name: str
    event_type: EventType
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]


async def _check_offers(uow: UnitOfWork, actions: tuple[Action, ...]) -> None:
    for i, action in enumerate(actions):
        if action.offer_id is not None and await uow.offers.get(action.offer_id) is None:
            raise NotFound("no such offer", ("actions", str(i), "offerId"))


async def create_trigger(cmd: TriggerInput, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Trigger:
    require_role(actor, Role.ADMIN)
    validated(cmd.name, cmd.event_type, cmd.conditions, cmd.actions)
    now = clock.now()
    async with uow:
        await _check_offers(uow, cmd.actions)
        trigger = await uow.triggers.add(cmd.name.strip(), cmd.event_type, cmd.conditions, cmd.actions, now)
        await uow.audit.record(audit_event(actor, "createTrigger", "Trigger", trigger.id, None, trigger, now))
        await uow.commit()
    return trigger


async def update_trigger(
    trigger_id: int, cmd: TriggerInput, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Trigger:
    """Replace the trigger's definition (it applies to events handled from now on); an ACTIVE or
    PAUSED trigger stays so."""
    require_role(actor, Role.ADMIN)
    validated(cmd.name, cmd.event_type, cmd.conditions, cmd.actions)
    now = clock.now()
    async with uow:
        before = await _existing(uow, trigger_id)
        await _check_offers(uow, cmd.actions)
        after = replace(
            before,
            name=cmd.name.strip(),
            event_type=cmd.event_type,
            conditions=cmd.conditions,
            actions=cmd.actions,
            updated_at=now,
        )
        await uow.triggers.update(after)
        await uow.audit.record(audit_event(actor, "updateTrigger", "Trigger", trigger_id, before, after, now))
        await uow.commit()
    return after


async def set_trigger_status(
    trigger_id: int, status: TriggerStatus, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Trigger:
    """pauseTrigger (PAUSED: events go by without firing it) and resumeTrigger (ACTIVE)."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        before = await _existing(uow, trigger_id)
        if before.status is status:
            return before
        after = replace(before, status=status, updated_at=now)
        await uow.triggers.update(after)
        action = "pauseTrigger" if status is TriggerStatus.PAUSED else "resumeTrigger"
        await uow.audit.record(audit_event(actor, action, "Trigger", trigger_id, before, after, now))
        await uow.commit()
    return after


async def _existing(uow: UnitOfWork, trigger_id: int) -> Trigger:
    trigger = await uow.triggers.get(trigger_id)
    if trigger is None:
        raise NotFound("no such trigger", ("triggerId",))
    return trigger


# The consumer


@dataclass
class ReactionRun:
    events: int = 0
    firings: int = 0


async def run_reactions(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, *, limit: int = BATCH, once: bool = True
) -> ReactionRun:
    """Handle the outbox events no consumer has handled yet, a batch per transaction; `once`: one
    batch (the worker's round, which comes back at once while there is more)."""
    run = ReactionRun()
    while True:
        async with (uow := uow_factory()):
            batch = await uow.triggers.unreacted(limit)
            if not batch:
                return run
            now = clock.now()
            active: dict[EventType, list[Trigger]] = {}  # read once per batch and type
            for _, event in batch:
                run.firings += await react(uow, event, now, active)
            await uow.triggers.reacted([seq for seq, _ in batch])
            await uow.commit()
        run.events += len(batch)
        if once or len(batch) < limit:
            return run


async def react(
    uow: UnitOfWork, event: Event, at: datetime, active: dict[EventType, list[Trigger]] | None = None
) -> int:
    """Inside an open unit of work: what one event causes; the triggers it fired. `active` caches
    the active triggers by event type across one batch."""
    if event.member_id is None:
        return 0
    active = {} if active is None else active
    if event.type not in active:
        active[event.type] = await uow.triggers.active_for(event.type)
    triggers = active[event.type]
    if event.type is not EventType.TIER_CHANGED and not triggers:
        return 0
    member = await uow.members.get(event.member_id)
    if member is None:
        return 0
    programme = await uow.programme.get()
    if event.type is EventType.TIER_CHANGED:
        await notify(
            uow,
            member,
            programme,
            NotificationKind.TIER_CHANGED,
            "tier_changed",
            {k: event.payload[k] for k in ("fromTierId", "toTierId", "reason")},
            f"tier:{event.id}",
            at,
        )
    fired = 0
    facts: Facts | None = None
    for trigger in triggers:
        if facts is None:
            facts = await _facts(uow, event, member, triggers)
        if not matches(trigger, facts):
            continue
        firing_id = await uow.triggers.fire(trigger.id, event.id, member.id, at)
        if firing_id is None:
            continue  # fired on this event before (or by a concurrent consumer, now committed)
        outcomes = [
            await _act(uow, action, trigger, event, member, programme, at) for action in trigger.actions
        ]
        await uow.triggers.record_outcomes(firing_id, [o.value for o in outcomes])
        fired += 1
    return fired


async def _facts(uow: UnitOfWork, event: Event, member: Member, triggers: list[Trigger]) -> Facts:
    conditions = [c for t in triggers for c in t.conditions]
    kinds = {c.kind for c in conditions}
    segments = (
        await uow.segments.member_segments(member.id) if ConditionKind.IN_SEGMENT in kinds else frozenset()
    )
    category: MerchantCategory | None = None
    earlier = 0
    if event.type is EventType.PURCHASE_POSTED:
        merchant = await uow.merchants.get(int(str(event.payload["merchantId"])))
        category = None if merchant is None else merchant.category
        if category is not None and ConditionKind.FIRST_IN_CATEGORY in kinds:
            earlier = await uow.triggers.earlier_in_category(
                member.id, category, int(str(event.payload["purchaseId"]))
            )
    around = None
    if ConditionKind.BALANCE_CROSSES in kinds and event.type is EventType.PURCHASE_POSTED:
        around = await uow.triggers.available_around(member.id, int(str(event.payload["purchaseId"])))
    before, after = around or (0, 0)
    return Facts(
        segments=segments,
        category=category,
        earlier_in_category=earlier,
        available_before=before,
        available_after=after,
    )


async def _act(
    uow: UnitOfWork,
    action: Action,
    trigger: Trigger,
    event: Event,
    member: Member,
    programme: Programme,
    now: datetime,
) -> Outcome:
    if action.kind is ActionKind.NOTIFY:
        assert action.template is not None
        decision = await notify(
            uow,
            member,
            programme,
            action.notification,
            action.template,
            {"triggerId": trigger.id, "offerId": action.offer_id},
            f"trigger:{trigger.id}:{event.id}:{action.template}",
            now,
        )
        return Outcome.DONE if decision is not None and decision.send else Outcome.SUPPRESSED
    assert action.offer_id is not None
    offer = await uow.offers.get(action.offer_id)
    if (
        offer is None
        or offer.status is not OfferStatus.ACTIVE
        or not offer.window.contains(now)
        or member.status is not MemberStatus.ACTIVE
    ):
        return Outcome.OFFER_NOT_LIVE
    if action.kind is ActionKind.ISSUE_COUPON:
        # The coupon's use counts against the offer's budget and caps when a purchase presents it.
        await lock_members(uow, [member.id])  # its event in the member's commit order (lock order)
        code = new_coupon_code()
        made = await uow.offers.add_coupons(offer.id, [code], 1, now)
        await uow.offers.claim_coupon(code, member.id, now)
        await uow.outbox.add(
            events.coupon_issued(
                member_id=member.id, offer_id=offer.id, coupon_ids=[c.id for c in made], at=now
            )
        )
        return Outcome.DONE
    # The member cap's period is the one `now` falls in (a monthly cap lets one award a month), as for
    # purchases; for a cap over the offer's life that is the offer's start.
    period = cap_period_start(offer, now)
    refused = await claim_award(uow, offer, member.id, period, offer.points, 0, now)
    if refused is not None:
        return _refusal(refused)
    description = f"Campaign bonus: {offer.name}"
    await give_bonus(uow, member.id, offer, TRIGGER, offer.points, None, description, programme, now)
    return Outcome.DONE


def _refusal(reason: SkipReason) -> Outcome:
    return Outcome.BUDGET_EXHAUSTED if reason is SkipReason.BUDGET_EXHAUSTED else Outcome.LIMIT_REACHED


# The sign-up nudge job


async def run_sign_up_nudges(uow_factory: Callable[[], UnitOfWork], clock: Clock) -> int:
    """Tell `member.no_purchase` once for each active member with no purchase `sign_up_nudge_days`
    after enrolling (triggers on that event send the nudge and its bonus); the members told."""
    now = clock.now()
    async with (uow := uow_factory()):
        programme = await uow.programme.get()
    days = programme.sign_up_nudge_days
    told = after = 0
    while True:
        async with (uow := uow_factory()):
            batch = await uow.triggers.without_purchase(now - timedelta(days=days), after, BATCH)
            if not batch:
                return told
            for member_id, enrolled_at in batch:
                if await uow.triggers.mark_nudged(member_id, now):
                    await uow.outbox.add(
                        events.member_no_purchase(
                            member_id=member_id, enrolled_at=enrolled_at, days=days, at=now
                        )
                    )
                    told += 1
            await uow.commit()
        after = batch[-1][0]
