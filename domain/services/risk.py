"""Risk control in the use cases: every points movement is assessed inside its own transaction, and
admins work the queue of held earnings and set the rules.

Where each assessment sits in the lock order (domain/services/posting.py):
- an earning claims its counters (risk_counters rows, in key order) with its purchase row, after
  its offer counters and before its posting takes the member's balance row
  (domain/services/purchases.py); nothing else takes counter rows, so no cycle;
- a redemption and a transfer read their figures under the members' balance rows they already hold.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import DecideRiskReview, UpdateRiskRule
from domain.errors import AlreadyFinalized, NotFound, Validation
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting, transfer
from domain.lots import NewLot
from domain.ports import UnitOfWork
from domain.results import RiskReviewResult
from domain.risk import (
    Movement,
    ReviewStatus,
    RiskAction,
    RiskFigures,
    RiskReview,
    RiskRule,
    assess,
    burn_windows,
    day_start,
    fan_in_on,
    refusal,
    validate_rule,
)
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry


async def refuse_risky_redemption(uow: UnitOfWork, movement: Movement) -> None:
    """Earn-and-burn: call with the member's balance row locked. Raises RiskRefused."""
    rules = await uow.risk.rules()
    windows = burn_windows(rules)
    if not windows:
        return
    largest = {
        minutes: await uow.risk.largest_earning(movement.member_id, movement.at - timedelta(minutes=minutes))
        for minutes in windows
    }
    decision = assess(movement, RiskFigures(largest_earning=largest), rules)
    if decision.refused:
        raise refusal(decision, member_id=movement.member_id)


async def refuse_risky_transfer(uow: UnitOfWork, sender_id: int, movement: Movement) -> None:
    """Transfer fan-in, for the receiver: call with both balance rows locked. Raises RiskRefused."""
    rules = await uow.risk.rules()
    if not fan_in_on(rules):
        return
    others = await uow.risk.other_senders(movement.member_id, sender_id, day_start(movement.at))
    decision = assess(movement, RiskFigures(other_senders_today=others), rules)
    if decision.refused:
        raise refusal(decision, member_id=movement.member_id)


def approve_entry(review: RiskReview) -> JournalEntry:
    return transfer(
        kind=EntryKind.APPROVE,
        member_id=review.member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=review.purchase_id,
        source=Account(AccountKind.MEMBER_REVIEW, review.member_id),
        destination=Account.available(review.member_id),
        points=review.points,
        description="Points under review now available (approved)",
    )


def reject_entry(review: RiskReview, funding: list[tuple[Account, int]]) -> JournalEntry:
    """The held points leave the review balance for the accounts the earning took them from."""
    if sum(points for _, points in funding) != review.points:
        raise ValueError(f"review {review.id}: the earning's funding does not add up to its points")
    return JournalEntry(
        kind=EntryKind.REJECT,
        member_id=review.member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=review.purchase_id,
        description="Points under review taken back (rejected)",
        postings=(
            Posting(Account(AccountKind.MEMBER_REVIEW, review.member_id), -review.points),
            *(Posting(account, points) for account, points in funding if points),
        ),
    )


async def decide_risk_review(
    cmd: DecideRiskReview, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RiskReviewResult:
    """Approval makes the held points available, in a lot that expires as the earning's would have;
    rejection returns them to whoever funded them and the purchase counts as earning nothing. Once:
    the review moves from OPEN by a conditional update under the member's balance row lock, and a
    second decision is ALREADY_FINALIZED. Audited."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    status = ReviewStatus.APPROVED if cmd.approve else ReviewStatus.REJECTED

    async def work() -> RiskReviewResult:
        found = await uow.risk.review(cmd.review_id)
        if found is None:
            raise NotFound("no such risk review", ("reviewId",))
        await lock_members(uow, [found.member_id])
        review = await uow.risk.decide(found.id, status, now, actor.subject)
        if review is None:
            raise AlreadyFinalized("this risk review was already decided", ("reviewId",))
        if cmd.approve:
            programme = await uow.programme.get()
            lot = NewLot(
                review.member_id, review.points, review.created_at, programme.expiry_for(review.created_at)
            )
            await post_entry(uow, approve_entry(review), now, lot)
        else:
            await post_entry(
                uow, reject_entry(review, await uow.refunds.earn_funding(review.purchase_id)), now
            )
            await uow.risk.take_back_purchase_points(review.purchase_id)
        await uow.outbox.add(
            events.risk_decided(
                approved=cmd.approve,
                member_id=review.member_id,
                review_id=review.id,
                points=review.points,
                at=now,
            )
        )
        action = "approveRiskReview" if cmd.approve else "rejectRiskReview"
        await uow.audit.record(audit_event(actor, action, "RiskReview", review.id, found, review, now))
        return RiskReviewResult.of(review)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RiskReviewResult, work=work)


async def update_risk_rule(cmd: UpdateRiskRule, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> RiskRule:
    """Change one rule's action or thresholds; audited. Seen by every process from the next
    transaction (the rules are cached with the catalogue)."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        rules = {r.id: r for r in await uow.risk.rules()}
        before = rules.get(cmd.rule_id)
        if before is None:
            raise NotFound("no such risk rule", ("ruleId",))
        changes: dict[str, object] = {}
        if cmd.action is not None:
            try:
                changes["action"] = RiskAction(cmd.action)
            except ValueError as exc:
                raise Validation("not a risk action", ("action",)) from exc
        for name in ("limit", "window_minutes", "min_history"):
            value = getattr(cmd, name)
            if value is not None:
                changes[name] = value
        if cmd.currency is not None:
            changes["currency"] = validation.text(cmd.currency, ("currency",), max_length=3).upper()
        if cmd.description is not None:
            changes["description"] = validation.text(cmd.description, ("description",), max_length=200)
        after = replace(before, **changes)  # type: ignore[arg-type]  # the names are RiskRule's fields
        validate_rule(after)
        await uow.risk.update_rule(after)
        await uow.audit.record(audit_event(actor, "updateRiskRule", "RiskRule", after.id, before, after, now))
        await uow.commit()
    return after
