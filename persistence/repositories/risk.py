"""Risk control: the rules (cached with the catalogue), the counters they read and the review queue.

An earning claims its counters in one statement: each counter row is created at zero or added to,
under its row lock, and comes back as it now stands; the figures before the earning are that less
what it added. The row locks last to the end of the transaction, so a racing earning on the same
member or merchant waits, then sees this one's addition: two purchases cannot both pass a limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.risk import (
    Counted,
    CounterClaim,
    CounterKey,
    CounterScope,
    ReviewStatus,
    RiskAction,
    RiskReview,
    RiskRule,
    RuleKind,
    RuleOutcome,
)
from persistence import bulk
from persistence.catalogue import Catalogue
from persistence.tables import purchases, risk_counters, risk_reviews, risk_rules, transfers

_RULES = select(risk_rules).order_by(risk_rules.c.id)

# PostgreSQL: every claim of an earning in one round trip, rows in the order given (the lock order).
# The purchase insert carries it as a CTE (persistence/repositories/activity.py): no round trip of its own.
CLAIM_ROWS = """
INSERT INTO risk_counters AS c (scope, owner_id, period, detail, count, points, amount_minor)
SELECT * FROM unnest(CAST(:scopes AS VARCHAR[]), CAST(:owners AS BIGINT[]), CAST(:periods AS BIGINT[]),
                     CAST(:details AS VARCHAR[]), CAST(:counts AS BIGINT[]), CAST(:points AS BIGINT[]),
                     CAST(:amounts AS BIGINT[]))
ON CONFLICT (scope, owner_id, period, detail) DO UPDATE
SET count = c.count + excluded.count, points = c.points + excluded.points,
    amount_minor = c.amount_minor + excluded.amount_minor
RETURNING scope, owner_id, period, detail, count, points, amount_minor
"""
_CLAIM_PG = text(CLAIM_ROWS)
_c = risk_counters.c
_CLAIM_SQLITE = (
    sqlite_insert(risk_counters)
    .on_conflict_do_update(
        index_elements=[_c.scope, _c.owner_id, _c.period, _c.detail],
        set_={
            "count": _c.count + sqlite_insert(risk_counters).excluded.count,
            "points": _c.points + sqlite_insert(risk_counters).excluded.points,
            "amount_minor": _c.amount_minor + sqlite_insert(risk_counters).excluded.amount_minor,
        },
    )
    .returning(_c.scope, _c.owner_id, _c.period, _c.detail, _c.count, _c.points, _c.amount_minor)
)

_LARGEST_EARNING = select(
    func.coalesce(func.max(purchases.c.points_earned - purchases.c.points_refunded), 0)
).where(purchases.c.member_id == bindparam("m"), purchases.c.created_at >= bindparam("since"))
_OTHER_SENDERS = select(func.count(func.distinct(transfers.c.member_id))).where(
    transfers.c.to_member_id == bindparam("r"),
    transfers.c.member_id != bindparam("s"),
    transfers.c.created_at >= bindparam("since"),
)


class SqlRiskRepository:
    def __init__(self, conn: AsyncConnection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue

    async def rules(self) -> tuple[RiskRule, ...]:
        return await self.catalogue.risk_rules(self._load_rules)

    async def _load_rules(self) -> list[RiskRule]:
        return [_rule(row) for row in await self.conn.execute(_RULES)]

    async def update_rule(self, rule: RiskRule) -> None:
        await self.conn.execute(
            update(risk_rules)
            .where(risk_rules.c.id == rule.id)
            .values(
                action=rule.action.value,
                limit_value=rule.limit,
                window_minutes=rule.window_minutes,
                currency=rule.currency,
                min_history=rule.min_history,
                description=rule.description,
            )
        )
        await self.catalogue.changed()

    async def claim(self, claims: Sequence[CounterClaim]) -> Mapping[CounterKey, Counted]:
        return await claim_counters(self.conn, claims)

    async def largest_earning(self, member_id: int, since: datetime) -> int:
        return int((await self.conn.execute(_LARGEST_EARNING, {"m": member_id, "since": since})).scalar_one())

    async def other_senders(self, receiver_id: int, sender_id: int, since: datetime) -> int:
        params = {"r": receiver_id, "s": sender_id, "since": since}
        return int((await self.conn.execute(_OTHER_SENDERS, params)).scalar_one())

    async def add_review(
        self,
        *,
        member_id: int,
        purchase_id: int,
        merchant_id: int,
        points: int,
        outcomes: Sequence[RuleOutcome],
        at: datetime,
    ) -> RiskReview:
        row = (
            await self.conn.execute(
                insert(risk_reviews)
                .values(
                    member_id=member_id,
                    purchase_id=purchase_id,
                    merchant_id=merchant_id,
                    points=points,
                    status=ReviewStatus.OPEN.value,
                    outcomes=[o.to_json() for o in outcomes],
                    created_at=at,
                )
                .returning(*risk_reviews.c)
            )
        ).one()
        return _review(row)

    async def review(self, review_id: int) -> RiskReview | None:
        row = (await self.conn.execute(select(risk_reviews).where(risk_reviews.c.id == review_id))).first()
        return _review(row) if row else None

    async def review_of_purchase(self, purchase_id: int) -> RiskReview | None:
        statement = select(risk_reviews).where(risk_reviews.c.purchase_id == purchase_id)
        row = (await self.conn.execute(statement)).first()
        return _review(row) if row else None

    async def decide(self, review_id: int, status: ReviewStatus, at: datetime, by: str) -> RiskReview | None:
        row = (
            await self.conn.execute(
                update(risk_reviews)
                .where(risk_reviews.c.id == review_id, risk_reviews.c.status == ReviewStatus.OPEN.value)
                .values(status=status.value, decided_at=at, decided_by=by[:120])
                .returning(*risk_reviews.c)
            )
        ).first()
        return _review(row) if row else None

    async def hold_purchase(self, purchase_id: int) -> None:
        await self.conn.execute(
            update(purchases).where(purchases.c.id == purchase_id).values(points_pending=0, matures_at=None)
        )

    async def take_back_purchase_points(self, purchase_id: int) -> None:
        await self.conn.execute(
            update(purchases)
            .where(purchases.c.id == purchase_id)
            .values(points_refunded=purchases.c.points_earned)
        )

    async def review_page(
        self, status: ReviewStatus | None, before: int | None, limit: int, member_id: int | None = None
    ) -> list[RiskReview]:
        statement = select(risk_reviews).order_by(risk_reviews.c.id.desc()).limit(limit)
        if member_id is not None:  # ix_risk_reviews_member_id_id
            statement = statement.where(risk_reviews.c.member_id == member_id)
        if status is not None:
            statement = statement.where(risk_reviews.c.status == status.value)
        if before is not None:
            statement = statement.where(risk_reviews.c.id < before)
        return [_review(row) for row in await self.conn.execute(statement)]


async def claim_counters(conn: AsyncConnection, claims: Sequence[CounterClaim]) -> dict[CounterKey, Counted]:
    """`RiskRepository.claim` on this connection."""
    if not claims:
        return {}
    if bulk.is_postgres(conn):
        rows = list(await conn.execute(_CLAIM_PG, claim_params(claims)))
    else:
        rows = []
        for c in claims:
            values = {
                "scope": c.key.scope.value,
                "owner_id": c.key.owner_id,
                "period": c.key.period,
                "detail": c.key.detail,
                "count": c.count,
                "points": c.points,
                "amount_minor": c.amount_minor,
            }
            rows.append((await conn.execute(_CLAIM_SQLITE, values)).one())
    return counted_before(claims, [tuple(row) for row in rows])


def claim_params(claims: Sequence[CounterClaim]) -> dict[str, list[Any]]:
    """The claims as the arrays `CLAIM_ROWS` unnests."""
    return {
        "scopes": [c.key.scope.value for c in claims],
        "owners": [c.key.owner_id for c in claims],
        "periods": [c.key.period for c in claims],
        "details": [c.key.detail for c in claims],
        "counts": [c.count for c in claims],
        "points": [c.points for c in claims],
        "amounts": [c.amount_minor for c in claims],
    }


def counted_before(
    claims: Sequence[CounterClaim], rows: Sequence[Sequence[Any]]
) -> dict[CounterKey, Counted]:
    """Each claimed counter as it stood before the claim, from the rows (scope, owner, period,
    detail, count, points, amount) it returned after it."""
    by_key = {claim.key: claim for claim in claims}
    before = {}
    for scope, owner_id, period, detail, count, points, amount in rows:
        key = CounterKey(CounterScope(scope), owner_id, period, detail)
        claim = by_key[key]
        before[key] = Counted(count - claim.count, points - claim.points, amount - claim.amount_minor)
    return before


def _rule(row: Row[Any]) -> RiskRule:
    return RiskRule(
        id=row.id,
        kind=RuleKind(row.kind),
        action=RiskAction(row.action),
        limit=row.limit_value,
        window_minutes=row.window_minutes,
        currency=row.currency,
        min_history=row.min_history,
        description=row.description,
    )


def _review(row: Row[Any]) -> RiskReview:
    return RiskReview(
        id=row.id,
        member_id=row.member_id,
        purchase_id=row.purchase_id,
        merchant_id=row.merchant_id,
        points=row.points,
        status=ReviewStatus(row.status),
        outcomes=tuple(RuleOutcome.from_json(o) for o in row.outcomes),
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )
