"""A merchant's settlement file, posted as purchases a batch at a time.

The same checks and arithmetic as postPurchase (`domain/earning.py`) and the same rows; what
differs is that a batch shares one transaction and writes each kind of row in one statement.
Each line is idempotent per (merchant, reference): a re-run of the same file adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain import events, member_links
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.earning import Earning, earn_entry, earn_lot, earning, purchase_time
from domain.errors import DomainError, ErrorCode, MemberLocked, NotFound
from domain.ledger import JournalEntry
from domain.lots import NewLot
from domain.members import MemberStatus
from domain.ports import UnitOfWork
from domain.posting import decide_posting
from domain.profiles import purchase_activity
from domain.purchases import NewPurchase
from domain.risk import (
    Counted,
    CounterClaim,
    CounterKey,
    Movement,
    MovementKind,
    RiskDecision,
    assess,
    earning_claims,
    earning_figures,
    refusal,
    risk_decision_event,
)
from domain.services.common import require_role
from domain.services.posting import lock_members, post_entries
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from domain.tiers import earn_multiplier, entry_tier


@dataclass(frozen=True, slots=True)
class _Accepted:
    line: SettlementLine
    member_id: int
    earned: Earning
    occurred_at: datetime


async def import_settlement_batch(
    lines: Sequence[SettlementLine],
    *,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    record: Callable[[UnitOfWork, BatchOutcome], Awaitable[None]] | None = None,
) -> BatchOutcome:
    """Post the lines that pass every check; report the others. Raises only when the whole batch
    cannot be posted (the caller is not a merchant, or its merchant does not exist). `record` writes
    the outcome in the batch's own transaction (an import's progress), so the two commit together."""
    require_role(actor, Role.MERCHANT)
    if actor.merchant_id is None:
        raise NotFound("the token names no merchant")
    # Its own scope: a settlement reference never collides with an API idempotency key.
    scope = f"{actor.idempotency_scope}:settlement"
    now = clock.now()
    async with uow:
        merchant = await uow.merchants.get(actor.merchant_id)
        if merchant is None:
            raise NotFound("the merchant does not exist")
        programme = await uow.programme.get()
        # A member presents itself to a merchant's file by its link: the reference the link gave.
        refs = {member_links.normalize(line.member_ref) for line in lines}
        members = await uow.member_links.statuses_by_refs(merchant.id, refs)
        multipliers = await _tier_multipliers(uow, [member_id for member_id, _ in members.values()])

        rejected: list[BadLine] = []
        accepted: dict[str, _Accepted] = {}
        digests: dict[str, str] = {}
        duplicates = 0
        for line in lines:
            digest = line_digest(line)
            if line.reference in accepted:  # the same reference twice in one batch
                duplicates += _duplicate_or_reject(line, digests[line.reference] == digest, rejected)
                continue
            try:
                found = members.get(member_links.normalize(line.member_ref))
                if found is None:
                    raise NotFound("no member linked to this merchant has this reference", ("member",))
                member_id, status = found
                if status is not MemberStatus.ACTIVE:
                    raise MemberLocked(f"member is {status.value.lower()}", ("member",))
                occurred_at = purchase_time(line.occurred_at, now, "time")
                earned = earning(
                    programme, merchant, line.amount, line.channel, multipliers.get(member_id, Decimal(1))
                )
            except DomainError as error:
                rejected.append(_bad(line, error))
                continue
            accepted[line.reference] = _Accepted(line, member_id, earned, occurred_at)
            digests[line.reference] = digest

        claimed = await uow.idempotency.claim_many(
            scope,
            [
                (ref, digests[ref], {"result": {"points_earned": a.earned.points}})
                for ref, a in accepted.items()
            ],
            now,
        )
        seen = await uow.idempotency.hashes(scope, accepted.keys() - claimed)
        for reference in accepted.keys() - claimed:
            duplicates += _duplicate_or_reject(
                accepted[reference].line, seen.get(reference) == digests[reference], rejected
            )
        to_post = [a for ref, a in accepted.items() if ref in claimed]

        # Risk control, as for postPurchase and before the members' balance rows (the lock order):
        # a refused line is rejected, a held line's points go to the member's review balance.
        risk = await _assess_lines(uow, merchant.id, to_post, now)
        refused = [a for a in to_post if risk[a.line.reference].refused]
        if refused:
            await uow.idempotency.release_many(scope, {a.line.reference for a in refused})
            rejected += [_bad(a.line, refusal(risk[a.line.reference], ("amount",))) for a in refused]
            to_post = [a for a in to_post if not risk[a.line.reference].refused]
        held = {a.line.reference for a in to_post if risk[a.line.reference].held and a.earned.points}

        # The return window applies as it does to postPurchase (a held line waits in review instead).
        pending_days = programme.pending_days_at(merchant)
        window_ends = now + timedelta(days=pending_days) if pending_days > 0 else None

        def matures_at(a: _Accepted) -> datetime | None:
            return None if a.line.reference in held else window_ends

        def booked(a: _Accepted, purchase_id: int) -> tuple[JournalEntry, NewLot | None]:
            on_hold = a.line.reference in held
            entry = earn_entry(
                a.member_id, purchase_id, a.earned.points, merchant, pending_until=matures_at(a), held=on_hold
            )
            no_lot = on_hold or matures_at(a) is not None
            return entry, None if no_lot else earn_lot(a.member_id, a.earned.points, now, programme)

        over_limit = await _refused_by_the_ledger(uow, to_post, booked)
        if over_limit:
            await uow.idempotency.release_many(scope, {a.line.reference for a, _ in over_limit})
            await _give_back_claims(uow, merchant.id, [a for a, _ in over_limit], now)
            rejected += [_bad(a.line, error) for a, error in over_limit]
            to_post = [a for a in to_post if a not in {a for a, _ in over_limit}]

        purchase_ids = await uow.purchases.add_many(
            [
                NewPurchase(
                    member_id=a.member_id,
                    merchant_id=merchant.id,
                    amount=a.earned.amount,
                    channel=a.earned.channel,
                    occurred_at=a.occurred_at,
                    reference=a.line.reference,
                    points_earned=a.earned.points,
                    points_pending=a.earned.points if matures_at(a) is not None else 0,
                    matures_at=matures_at(a),
                )
                for a in to_post
            ],
            now,
        )
        posted = list(zip(to_post, purchase_ids, strict=True))
        await uow.profiles.add(
            [
                purchase_activity(
                    a.member_id,
                    merchant.id,
                    a.earned.channel,
                    a.earned.amount.currency,
                    a.earned.amount.amount_minor,
                    a.occurred_at,
                )
                for a in to_post
            ]
        )
        await post_entries(uow, [booked(a, purchase_id) for a, purchase_id in posted if a.earned.points], now)
        for a, purchase_id in posted:
            if a.line.reference in held:
                decision = risk[a.line.reference]
                review = await uow.risk.add_review(
                    member_id=a.member_id,
                    purchase_id=purchase_id,
                    merchant_id=merchant.id,
                    points=a.earned.points,
                    outcomes=decision.outcomes,
                    at=now,
                )
                facts = {"reviewId": review.id, "purchaseId": purchase_id, "points": a.earned.points}
                event = risk_decision_event(
                    actor, "security.risk_hold", a.member_id, facts | {"rules": decision.summary()}, now
                )
                await uow.audit.record(event)
                await uow.outbox.add(
                    events.risk_held(
                        member_id=a.member_id,
                        review_id=review.id,
                        purchase_id=purchase_id,
                        points=a.earned.points,
                        rules=[o.kind.value for o in decision.outcomes],
                        at=now,
                    )
                )
        await uow.outbox.add(
            *(
                e
                for a, purchase_id in posted
                for e in _settled_events(
                    a, purchase_id, merchant.id, matures_at(a), a.line.reference in held, now
                )
            )
        )
        # A line that earned nothing has no entry to say the member shopped: as postPurchase does,
        # record that it acted (its balance row is locked with the others').
        earned_nothing = {a.member_id for a in to_post if not a.earned.points}
        for member_id in sorted(earned_nothing - {a.member_id for a in to_post if a.earned.points}):
            await uow.members.record_activity(member_id, now)
        rejected.sort(key=lambda bad: bad.line_no)
        outcome = BatchOutcome(
            posted=len(to_post),
            duplicates=duplicates,
            rejected=tuple(rejected),
            points=sum(a.earned.points for a in to_post),
        )
        if record is not None:
            await record(uow, outcome)
        await uow.commit()
    return outcome


async def _tier_multipliers(uow: UnitOfWork, member_ids: list[int]) -> dict[int, Decimal]:
    """Each member's tier earn multiplier, as postPurchase applies it; read in one query for the
    batch, and not at all while no tier multiplies."""
    ladder = await uow.tiers.ladder()
    if all(tier.earn_multiplier == 1 for tier in ladder):
        return {}
    by_id = {tier.id: tier for tier in ladder}
    entry = entry_tier(ladder)
    held = await uow.tiers.member_tier_ids(member_ids)
    return {
        member_id: earn_multiplier(entry if tier_id is None else by_id.get(tier_id, entry))
        for member_id, tier_id in held.items()
    }


def _settled_events(
    a: _Accepted, purchase_id: int, merchant_id: int, matures_at: datetime | None, held: bool, now: datetime
) -> list[events.Event]:
    """A settled line's events: the purchase, and its pending points."""
    out = [
        events.purchase_posted(
            member_id=a.member_id,
            purchase_id=purchase_id,
            merchant_id=merchant_id,
            amount_minor=a.earned.amount.amount_minor,
            currency=a.earned.amount.currency,
            channel=a.earned.channel.value,
            points=a.earned.points,
            pending=matures_at is not None,
            held=held,
            purchased_at=a.occurred_at,
            at=now,
        )
    ]
    if matures_at is not None and a.earned.points:
        out.append(
            events.points_pending(
                member_id=a.member_id,
                purchase_id=purchase_id,
                points=a.earned.points,
                matures_at=matures_at,
                at=now,
            )
        )
    return out


def line_digest(line: SettlementLine) -> str:
    """What a line asks for, apart from where it sits in the file. Fields never hold control
    characters (the parser refuses them), so the unit separator keeps them apart unambiguously."""
    fields = (
        line.reference,
        line.member_ref,
        str(line.amount.amount_minor),
        line.amount.currency,
        line.occurred_at.isoformat(),
        line.channel.value if line.channel else "",
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


async def _refused_by_the_ledger(
    uow: UnitOfWork,
    to_post: list[_Accepted],
    booked: Callable[[_Accepted, int], tuple[JournalEntry, NewLot | None]],
) -> list[tuple[_Accepted, DomainError]]:
    """Lock the members' balances (those of lines that earn nothing too: their activity is recorded)
    and decide each line's posting, in order, as the batch will book it: the lines the ledger would
    refuse (a balance past its limit), with why. The purchases do not exist yet; the decision does
    not depend on their ids."""
    running = await lock_members(uow, {a.member_id for a in to_post})
    refused: list[tuple[_Accepted, DomainError]] = []
    for a in to_post:
        if not a.earned.points:
            continue  # no entry to book
        entry, lot = booked(a, 0)
        try:
            decision = decide_posting(entry, lot, running)
        except DomainError as error:
            refused.append((a, type(error)(error.message, ("amount",))))
            continue
        running |= {row.member_id: row.after for row in decision.rows}
    return refused


def _movement(a: _Accepted, merchant_id: int, at: datetime) -> Movement:
    return Movement(MovementKind.EARN, a.member_id, a.earned.points, at, a.earned.amount, merchant_id)


async def _assess_lines(
    uow: UnitOfWork, merchant_id: int, lines: Sequence[_Accepted], at: datetime
) -> dict[str, RiskDecision]:
    """Each line's risk decision, in file order, each seeing the lines before it: the batch claims
    all its lines' counters in one go (under their row locks, to commit), then gives back what the
    refused lines claimed."""
    rules = await uow.risk.rules()
    claims = {a.line.reference: earning_claims(_movement(a, merchant_id, at), rules) for a in lines}
    counted = await uow.risk.claim(_summed([c for per_line in claims.values() for c in per_line]))
    running = {key: counted[key] for key in counted}
    decisions = {}
    refused: list[CounterClaim] = []
    for a in lines:
        mine = claims[a.line.reference]
        movement = _movement(a, merchant_id, at)
        decision = assess(movement, earning_figures(movement, {c.key: running[c.key] for c in mine}), rules)
        decisions[a.line.reference] = decision
        if decision.refused:
            refused += mine
            continue
        for c in mine:
            seen = running[c.key]
            running[c.key] = Counted(
                seen.count + c.count, seen.points + c.points, seen.amount_minor + c.amount_minor
            )
    if refused:
        await uow.risk.claim(_summed(refused, sign=-1))
    return decisions


async def _give_back_claims(
    uow: UnitOfWork, merchant_id: int, lines: Sequence[_Accepted], at: datetime
) -> None:
    """Lines the ledger refused after their counters were claimed: their claims are taken back (the
    batch holds those counter rows already, so this takes no new lock)."""
    rules = await uow.risk.rules()
    claims = [c for a in lines for c in earning_claims(_movement(a, merchant_id, at), rules)]
    if claims:
        await uow.risk.claim(_summed(claims, sign=-1))


def _summed(claims: Sequence[CounterClaim], sign: int = 1) -> list[CounterClaim]:
    """One claim per counter, in key order (the lock order)."""
    total: dict[CounterKey, tuple[int, int, int]] = {}
    for c in claims:
        count, points, amount = total.get(c.key, (0, 0, 0))
        total[c.key] = (count + c.count, points + c.points, amount + c.amount_minor)
    return [
        CounterClaim(key, sign * count, sign * points, sign * amount)
        for key, (count, points, amount) in sorted(total.items())
    ]


def _duplicate_or_reject(line: SettlementLine, same_request: bool, rejected: list[BadLine]) -> int:
    if same_request:
        return 1
    message = "reference: already imported with different details"
    rejected.append(BadLine(line.line_no, message, ErrorCode.IDEMPOTENCY_KEY_REUSED))
    return 0


def _bad(line: SettlementLine, error: DomainError) -> BadLine:
    field = error.field[-1] if error.field else "line"
    return BadLine(line.line_no, f"{field}: {error.message}", error.code)
