"""A merchant's settlement file, posted as purchases a batch at a time.

The same checks and arithmetic as postPurchase (`domain/earning.py`) and the same rows; what
differs is that a batch shares one transaction and writes each kind of row in one statement.
Each line is idempotent per (merchant, reference): a re-run of the same file adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.earning import Earning, earn_entry, earn_lot, earning, purchase_time
from domain.errors import DomainError, LimitReached, MemberLocked, NotFound
from domain.ledger import MAX_BALANCE
from domain.members import MemberStatus
from domain.ports import UnitOfWork
from domain.purchases import NewPurchase
from domain.services.common import require_role
from domain.settlement import BadLine, BatchOutcome, SettlementLine
from domain.tiers import earn_multiplier, entry_tier


@dataclass(frozen=True, slots=True)
class _Accepted:
    line: SettlementLine
    member_id: int
    earned: Earning
    occurred_at: datetime


async def import_settlement_batch(
    lines: Sequence[SettlementLine], *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> BatchOutcome:
    """Post the lines that pass every check; report the others. Raises only when the whole batch
    cannot be posted (the caller is not a merchant, or its merchant does not exist)."""
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
        members = await uow.members.statuses_by_external_refs({line.member_external_ref for line in lines})
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
                found = members.get(line.member_external_ref)
                if found is None:
                    raise NotFound("no member has this externalRef", ("member",))
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

        over_limit = await _over_balance_limit(uow, to_post)
        if over_limit:
            await uow.idempotency.release_many(scope, {a.line.reference for a in over_limit})
            too_much = LimitReached(f"a member's balance cannot exceed {MAX_BALANCE} points", ("amount",))
            rejected += [_bad(a.line, too_much) for a in over_limit]
            to_post = [a for a in to_post if a not in over_limit]

        # The return window applies as it does to postPurchase.
        pending_days = programme.pending_days_at(merchant)
        matures_at = now + timedelta(days=pending_days) if pending_days > 0 else None
        pending = matures_at is not None
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
                    points_pending=a.earned.points if pending else 0,
                    matures_at=matures_at,
                )
                for a in to_post
            ],
            now,
        )
        await uow.ledger.post_many(
            [
                (
                    earn_entry(a.member_id, purchase_id, a.earned.points, merchant, pending_until=matures_at),
                    None if pending else earn_lot(a.member_id, a.earned.points, now, programme),
                )
                for a, purchase_id in zip(to_post, purchase_ids, strict=True)
                if a.earned.points
            ],
            now,
        )
        # A line that earned nothing has no entry to say the member shopped: as postPurchase does,
        # record that it acted (its balance row is locked above).
        earned_nothing = {a.member_id for a in to_post if not a.earned.points}
        for member_id in sorted(earned_nothing - {a.member_id for a in to_post if a.earned.points}):
            await uow.members.record_activity(member_id, now)
        await uow.commit()
    rejected.sort(key=lambda bad: bad.line_no)
    return BatchOutcome(
        posted=len(to_post),
        duplicates=duplicates,
        rejected=tuple(rejected),
        points=sum(a.earned.points for a in to_post),
    )


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


def line_digest(line: SettlementLine) -> str:
    """What a line asks for, apart from where it sits in the file. Fields never hold control
    characters (the parser refuses them), so the unit separator keeps them apart unambiguously."""
    fields = (
        line.reference,
        line.member_external_ref,
        str(line.amount.amount_minor),
        line.amount.currency,
        line.occurred_at.isoformat(),
        line.channel.value if line.channel else "",
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


async def _over_balance_limit(uow: UnitOfWork, to_post: list[_Accepted]) -> list[_Accepted]:
    """Lock the members' balances, in id order, and find the lines that would take one past the limit."""
    balances = await uow.ledger.lock_balances({a.member_id for a in to_post})
    running = {member_id: (b.available, b.lifetime_earned) for member_id, b in balances.items()}
    over: list[_Accepted] = []
    for a in to_post:
        available, earned = running[a.member_id]
        if max(available, earned) + a.earned.points > MAX_BALANCE:
            over.append(a)
            continue
        running[a.member_id] = (available + a.earned.points, earned + a.earned.points)
    return over


def _duplicate_or_reject(line: SettlementLine, same_request: bool, rejected: list[BadLine]) -> int:
    if same_request:
        return 1
    rejected.append(BadLine(line.line_no, "reference: already imported with different details"))
    return 0


def _bad(line: SettlementLine, error: DomainError) -> BadLine:
    field = error.field[-1] if error.field else "line"
    return BadLine(line.line_no, f"{field}: {error.message}")
