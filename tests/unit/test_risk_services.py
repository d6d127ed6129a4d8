"""Risk control in the use cases, against the in-memory store: a held earning goes to the review
balance without a lot, approval gives it its lot (expiring from the earning), a refusal changes
nothing (its counters included), and a decision is taken once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.clock import FixedClock
from domain.commands import DecideRiskReview, PostPurchase, UpdateRiskRule
from domain.errors import DomainError, ErrorCode
from domain.ledger import Account, AccountKind
from domain.money import Money
from domain.risk import ReviewStatus, RiskAction, RuleKind
from domain.services.purchases import post_purchase
from domain.services.risk import decide_risk_review, update_risk_rule
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import (
    ADMIN,
    balance,
    given_member,
    given_merchant,
    lots_of,
    merchant_actor,
    snapshot,
)


def rule_of(db: FakeDatabase, kind: RuleKind, currency: str | None = None) -> int:
    [found] = [r.id for r in db.tables.risk.rules.values() if r.kind is kind and r.currency == currency]
    return found


async def test_a_held_purchase_credits_the_review_balance_and_creates_no_lot(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)

    result = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(30_000_001, "CNY"), "big"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )

    assert result.points_earned == 300_000
    assert result.review_id is not None
    assert result.risk_notice is not None
    assert "amount 30000001 CNY minor units over 30000000" in result.risk_notice
    assert (balance(db, member.id).available, balance(db, member.id).under_review) == (0, 300_000)
    assert balance(db, member.id).lifetime_earned == 300_000
    assert lots_of(db, member.id) == []
    [posted] = [p for p in db.tables.journal.values()]
    assert posted.entry.postings[-1].account == Account(AccountKind.MEMBER_REVIEW, member.id)


async def test_approval_makes_the_points_available_in_a_lot_expiring_from_the_earning(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    held = await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(30_000_001, "CNY"), "big"),
        actor=merchant_actor(merchant.id),
        uow=uow,
        clock=clock,
    )
    assert held.review_id is not None
    later = FixedClock(clock.now() + timedelta(days=3))

    decided = await decide_risk_review(
        DecideRiskReview(held.review_id, True, "a1"), actor=ADMIN, uow=uow, clock=later
    )
    with pytest.raises(DomainError) as again:
        await decide_risk_review(
            DecideRiskReview(held.review_id, True, "a2"), actor=ADMIN, uow=uow, clock=later
        )

    assert decided.status == ReviewStatus.APPROVED.value
    assert (balance(db, member.id).available, balance(db, member.id).under_review) == (300_000, 0)
    [lot] = lots_of(db, member.id)
    assert (lot.points, lot.earned_at) == (300_000, clock.now())
    assert lot.expires_at == db.programme.expiry_for(clock.now())
    assert again.value.code is ErrorCode.ALREADY_FINALIZED
    assert [e.action for e in db.tables.audit] == ["security.risk_hold", "approveRiskReview"]


async def test_a_refusal_changes_nothing_not_even_the_counters(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)
    cny = rule_of(db, RuleKind.PURCHASE_AMOUNT, "CNY")
    db.tables.risk.rules[cny] = replace(db.tables.risk.rules[cny], action=RiskAction.REFUSE)
    before = snapshot(db)

    with pytest.raises(DomainError) as refused:
        await post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(30_000_001, "CNY"), "big"),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )

    assert refused.value.code is ErrorCode.RISK_REVIEW
    assert db.tables.risk.counters == before.risk.counters == {}
    assert db.tables.journal == {}
    assert balance(db, member.id) == before.balances[member.id]
    assert [row.response["error"]["code"] for row in db.tables.idempotency.values()] == ["RISK_REVIEW"]  # type: ignore[index]


async def test_an_allowed_purchase_counts_in_every_counter_its_rules_read(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    merchant = await given_merchant(db)

    for key in ("a", "b"):
        await post_purchase(
            PostPurchase(linked(db, merchant.id, member.id), Money(12_345, "CNY"), key),
            actor=merchant_actor(merchant.id),
            uow=uow,
            clock=clock,
        )

    assert sorted(
        (k.scope.value, c.count, c.points, c.amount_minor) for k, c in db.tables.risk.counters.items()
    ) == [
        ("MEMBER_DAY", 2, 246, 0),
        ("MEMBER_HISTORY", 2, 246, 24_690),
        ("MEMBER_WINDOW", 2, 246, 0),
        ("MERCHANT_DAY", 2, 246, 0),
    ]


async def test_updating_a_rule_validates_and_audits(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    velocity = rule_of(db, RuleKind.MEMBER_VELOCITY)

    updated = await update_risk_rule(
        UpdateRiskRule(velocity, action="REFUSE", limit=3, window_minutes=60),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )
    with pytest.raises(DomainError) as bad:
        await update_risk_rule(UpdateRiskRule(velocity, action="MAYBE"), actor=ADMIN, uow=uow, clock=clock)

    assert (updated.action, updated.limit, updated.window_minutes) == (RiskAction.REFUSE, 3, 60)
    assert db.tables.risk.rules[velocity] == updated
    assert (bad.value.code, bad.value.field) == (ErrorCode.VALIDATION, ("action",))
    [event] = db.tables.audit
    assert (event.action, event.target_type, event.target_id) == ("updateRiskRule", "RiskRule", velocity)
    assert event.before is not None
    assert event.after is not None
    assert (event.before["limit"], event.after["limit"]) == (10, 3)
