"""Re-sum the whole ledger and report every place where the stored state disagrees with the journal.

All checks run in ONE snapshot (one connection, one read transaction: REPEATABLE READ on PostgreSQL;
on SQLite a read transaction in WAL mode is a snapshot), so a busy system never shows a torn state.
Every check is one set-based statement (GROUP BY / anti-joins, no per-row loops in Python): the cost
is a handful of scans of journal_lines, lots and draws, which is fine at millions of lines.

The invariants (the ledger's contract; see DESIGN.md "Points are money"):

  ENTRY_UNBALANCED / ENTRY_TOO_FEW_LINES   every journal entry's lines sum to 0, and it has >= 2 lines
  LINE_INVALID_ACCOUNT     a line names a known account; member accounts carry member_id, others do not
  BALANCE_ROW_MISSING      every member has its member_balances row
  BALANCE_MISMATCH         stored available/pending/held/under_review == sum of the member's lines on
                           that account, and stored debt == minus the sum of its MEMBER_DEBT lines
  LIFETIME_MISMATCH        lifetime_earned/lifetime_redeemed == what `JournalEntry.lifetime_deltas`
                           derives from the journal, from each entry's net change of the member's
                           accounts (EARN/ADJUST credits and REFUND/REJECT debits count as earned; REDEEM
                           debits and RETURN credits as redeemed)
  LOT_OUT_OF_RANGE         0 <= lot.remaining <= lot.points
  LOT_REMAINING_MISMATCH   lot.remaining == lot.points - sum(lot_draws.points of that lot)
  LOT_DRAW_MEMBER_MISMATCH a draw belongs to the member who owns the lot
  LOTS_BALANCE_MISMATCH    per member, sum(lot.remaining) == stored available balance
  LOTS_ISSUED_MISMATCH     per entry, sum of lots it created == points it credited to MEMBER_AVAILABLE
  DRAWS_MISMATCH           per entry, sum of its lot_draws == points it debited from MEMBER_AVAILABLE
  ORIGIN_MISSING / ORIGIN_MEMBER_MISMATCH / ORIGIN_UNKNOWN_TYPE
                           every entry points at an existing purchase/redemption/adjustment row of the
                           same member
  REVIEW_MISMATCH          per member, the points of its OPEN risk reviews == its stored under_review,
                           and every review's points == what its purchase's EARN entry credited to
                           MEMBER_REVIEW
  ENTRY_MISSING            every adjustment, completed redemption and purchase that earned points has
                           its journal entry (the reverse of the origin check)
  OFFER_USAGE_MISMATCH     an offer's counters == what its awards gave less what refunds gave back
                           (the definition campaignReport's totals follow too)
  AWARD_FUNDING_MISMATCH   every award's funding rows add up to what it gave
  FUNDING_JOURNAL_MISMATCH per purchase and merchant or partner funder, its award_funding points ==
                           what the purchase's EARN entry took from the funder's account, and what
                           the purchase's refunds and rejection gave back to that account is between
                           0 and that (statements read awards from award_funding and returns from
                           the journal: this is what makes them add up to the funding accounts)
  AWARD_REFUND_OUT_OF_RANGE  refunds gave back from an award between 0 and what it gave (points and
                           money), so every net figure of campaignReport is between 0 and the gross
  AUDIT_ROW_ALTERED / AUDIT_CHAIN_BROKEN / AUDIT_HEAD_MISMATCH
                           the audit log's hash chain holds (queries/audit_check.py): the first
                           row whose content or link no longer matches is named

The three lot invariants (LOTS_BALANCE, LOTS_ISSUED, DRAWS) hold because every point in
MEMBER_AVAILABLE lives in exactly one lot, and only available points do: pending points get their
lot when they mature (a MATURE entry credits available), expiry draws lots to zero, a hold draws its
lots when it is authorized and a release (void, expiry, the rest of a capture) credits available in
new lots, as does a RETURN; points owed (MEMBER_DEBT) and held are in no lot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.ledger import MEMBER_ACCOUNT_KINDS, AccountKind, EntryKind, OriginType
from persistence.queries.audit_check import check_audit_chain
from persistence.tables import (
    adjustments,
    award_funding,
    expirations,
    journal_entries,
    journal_lines,
    lot_draws,
    member_awards,
    member_balances,
    members,
    offers,
    points_lots,
    purchase_awards,
    purchases,
    redemptions,
    refunds,
    risk_reviews,
    transfers,
)


class ViolationKind(StrEnum):
    ENTRY_UNBALANCED = "ENTRY_UNBALANCED"
    ENTRY_TOO_FEW_LINES = "ENTRY_TOO_FEW_LINES"
    LINE_INVALID_ACCOUNT = "LINE_INVALID_ACCOUNT"
    BALANCE_ROW_MISSING = "BALANCE_ROW_MISSING"
    BALANCE_MISMATCH = "BALANCE_MISMATCH"
    LIFETIME_MISMATCH = "LIFETIME_MISMATCH"
    LOT_OUT_OF_RANGE = "LOT_OUT_OF_RANGE"
    LOT_REMAINING_MISMATCH = "LOT_REMAINING_MISMATCH"
    LOT_DRAW_MEMBER_MISMATCH = "LOT_DRAW_MEMBER_MISMATCH"
    LOTS_BALANCE_MISMATCH = "LOTS_BALANCE_MISMATCH"
    LOTS_ISSUED_MISMATCH = "LOTS_ISSUED_MISMATCH"
    DRAWS_MISMATCH = "DRAWS_MISMATCH"
    ORIGIN_MISSING = "ORIGIN_MISSING"
    ORIGIN_MEMBER_MISMATCH = "ORIGIN_MEMBER_MISMATCH"
    ORIGIN_UNKNOWN_TYPE = "ORIGIN_UNKNOWN_TYPE"
    ENTRY_MISSING = "ENTRY_MISSING"
    OFFER_USAGE_MISMATCH = "OFFER_USAGE_MISMATCH"
    AWARD_FUNDING_MISMATCH = "AWARD_FUNDING_MISMATCH"
    FUNDING_JOURNAL_MISMATCH = "FUNDING_JOURNAL_MISMATCH"
    AWARD_REFUND_OUT_OF_RANGE = "AWARD_REFUND_OUT_OF_RANGE"
    AUDIT_ROW_ALTERED = "AUDIT_ROW_ALTERED"
    AUDIT_CHAIN_BROKEN = "AUDIT_CHAIN_BROKEN"
    AUDIT_HEAD_MISMATCH = "AUDIT_HEAD_MISMATCH"
    REVIEW_MISMATCH = "REVIEW_MISMATCH"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, with the ids of the rows involved (None where not applicable)."""

    kind: ViolationKind
    message: str
    member_id: int | None = None
    entry_id: int | None = None
    lot_id: int | None = None
    origin_id: int | None = None
    audit_id: int | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


@dataclass(frozen=True)
class LedgerReport:
    """What was checked, the derived system account totals, and every violation found."""

    counts: Mapping[str, int]
    # Every non-member account kind, summed over the journal (system accounts store no balance).
    system_totals: Mapping[str, int]
    # Member accounts by kind, summed over the stored balances.
    member_totals: Mapping[str, int]
    violations: tuple[Violation, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.violations


async def check_ledger(engine: AsyncEngine, *, limit_per_check: int | None = None) -> list[Violation]:
    """Every violation of the ledger's invariants, in one snapshot. Empty means the ledger is sound."""
    return list((await verify_ledger(engine, limit_per_check=limit_per_check)).violations)


async def verify_ledger(engine: AsyncEngine, *, limit_per_check: int | None = None) -> LedgerReport:
    """The full report: counts, derived totals and violations, all read in one snapshot.

    `limit_per_check` caps the rows each check returns (None: all), for a badly broken database.
    On SQLite pass an engine whose connections run in WAL mode (`Database.read_engine`).
    """
    async with _snapshot(engine) as conn:
        checker = _Checker(conn, limit_per_check)
        for check in (
            checker.entries_balance,
            checker.line_accounts,
            checker.balance_rows,
            checker.balances_and_lifetime,
            checker.lots,
            checker.lot_draw_members,
            checker.lots_vs_available,
            checker.lots_issued,
            checker.draws_per_entry,
            checker.origins,
            checker.facts_without_entries,
            checker.offer_usage,
            checker.award_funding,
            checker.funding_journal,
            checker.award_refunds,
            checker.reviews,
        ):
            await check()
        audit_rows, chain_break = await check_audit_chain(conn)
        if chain_break is not None:
            checker._add(ViolationKind(chain_break.kind), chain_break.message, audit_id=chain_break.row_id)
        counts = {**await _counts(conn), "audit rows": audit_rows}
        system_totals, member_totals = await _totals(conn)
    return LedgerReport(counts, system_totals, member_totals, tuple(checker.violations))


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        await conn.begin()
        try:
            if conn.dialect.name == "sqlite":
                await _ensure_sqlite_transaction(conn)
            yield conn
        finally:
            await conn.rollback()  # read-only: nothing to keep


async def _ensure_sqlite_transaction(conn: AsyncConnection) -> None:
    """The project's engines emit BEGIN from a hook; a plain engine leaves the driver in autocommit
    for SELECTs, where each statement would see its own snapshot. Begin explicitly in that case."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is not None and not getattr(driver, "in_transaction", True):
        await conn.exec_driver_sql("BEGIN")


def _n(value: Any) -> int:
    """PostgreSQL's sum(bigint) is numeric (Decimal); SQLite's is int; NULL means nothing summed."""
    return int(value or 0)


def _sum(expression: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(expression), 0)


def _sum_where(condition: ColumnElement[bool], expression: Any) -> ColumnElement[Any]:
    return _sum(case((condition, expression), else_=0))


_MEMBER_KINDS = sorted(k.value for k in MEMBER_ACCOUNT_KINDS)
_AVAILABLE = AccountKind.MEMBER_AVAILABLE.value
_PENDING = AccountKind.MEMBER_PENDING.value
_HELD = AccountKind.MEMBER_HELD.value
_ORIGIN_TABLES = {
    OriginType.PURCHASE.value: purchases,
    OriginType.REDEMPTION.value: redemptions,
    OriginType.ADJUSTMENT.value: adjustments,
    OriginType.AWARD.value: member_awards,
    OriginType.EXPIRATION.value: expirations,
    OriginType.TRANSFER.value: transfers,
    OriginType.REFUND.value: refunds,
}
_DEBT = AccountKind.MEMBER_DEBT.value
_FUNDER_KINDS = [AccountKind.MERCHANT_FUNDING.value, AccountKind.PARTNER_FUNDING.value]
_REVIEW = AccountKind.MEMBER_REVIEW.value


class _Checker:
    def __init__(self, conn: AsyncConnection, limit: int | None) -> None:
        self.conn = conn
        self.limit = limit
        self.violations: list[Violation] = []

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        if self.limit is not None:
            statement = statement.limit(self.limit)
        return (await self.conn.execute(statement)).all()

    def _add(self, kind: ViolationKind, message: str, **ids: int | None) -> None:
        self.violations.append(Violation(kind, message, **ids))

    # (a) every entry balances and has at least two lines
    async def entries_balance(self) -> None:
        per_entry = (
            select(
                journal_lines.c.entry_id,
                func.count().label("lines"),
                func.sum(journal_lines.c.amount).label("total"),
            )
            .group_by(journal_lines.c.entry_id)
            .subquery()
        )
        lines = func.coalesce(per_entry.c.lines, 0)
        total = func.coalesce(per_entry.c.total, 0)
        statement = (
            select(
                journal_entries.c.id,
                journal_entries.c.member_id,
                lines.label("lines"),
                total.label("total"),
            )
            .select_from(journal_entries.outerjoin(per_entry, per_entry.c.entry_id == journal_entries.c.id))
            .where(or_(lines < 2, total != 0))
            .order_by(journal_entries.c.id)
        )
        for row in await self._rows(statement):
            if _n(row.total) != 0:
                self._add(
                    ViolationKind.ENTRY_UNBALANCED,
                    f"entry {row.id}: lines sum to {_n(row.total)}, not 0",
                    entry_id=row.id,
                    member_id=row.member_id,
                )
            if _n(row.lines) < 2:
                self._add(
                    ViolationKind.ENTRY_TOO_FEW_LINES,
                    f"entry {row.id}: {_n(row.lines)} line(s), at least 2 needed",
                    entry_id=row.id,
                    member_id=row.member_id,
                )

    # every line names a known account, with member_id exactly when it is a member account
    async def line_accounts(self) -> None:
        kind = journal_lines.c.account_kind
        is_member = kind.in_(_MEMBER_KINDS)
        statement = (
            select(journal_lines.c.id, journal_lines.c.entry_id, kind, journal_lines.c.member_id)
            .where(
                or_(
                    kind.not_in([k.value for k in AccountKind]),
                    and_(is_member, journal_lines.c.member_id.is_(None)),
                    and_(~is_member, journal_lines.c.member_id.is_not(None)),
                )
            )
            .order_by(journal_lines.c.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.LINE_INVALID_ACCOUNT,
                f"line {row.id} of entry {row.entry_id}: account {row.account_kind!r} "
                f"with member_id {row.member_id}",
                entry_id=row.entry_id,
                member_id=row.member_id,
            )

    async def balance_rows(self) -> None:
        statement = (
            select(members.c.id)
            .where(~exists().where(member_balances.c.member_id == members.c.id))
            .order_by(members.c.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.BALANCE_ROW_MISSING,
                f"member {row.id} has no member_balances row",
                member_id=row.id,
            )

    # (b) stored balances == journal sums, and (g) the lifetime counters, from one pass over the
    # member lines: per (member, entry) first, as `JournalEntry.lifetime_deltas` works per entry.
    async def balances_and_lifetime(self) -> None:
        kind = journal_lines.c.account_kind
        amount = journal_lines.c.amount
        per_entry = (
            select(
                journal_lines.c.member_id,
                journal_entries.c.kind.label("entry_kind"),
                _sum_where(kind == _AVAILABLE, amount).label("available"),
                _sum_where(kind == _PENDING, amount).label("pending"),
                _sum_where(kind == _HELD, amount).label("held"),
                _sum_where(kind == _DEBT, amount).label("debt"),
                _sum_where(kind == _REVIEW, amount).label("review"),
            )
            .select_from(
                journal_lines.join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            )
            .where(journal_lines.c.member_id.is_not(None), kind.in_(_MEMBER_KINDS))
            .group_by(journal_lines.c.member_id, journal_lines.c.entry_id, journal_entries.c.kind)
            .subquery()
        )
        net = (
            per_entry.c.available
            + per_entry.c.pending
            + per_entry.c.held
            + per_entry.c.debt
            + per_entry.c.review
        )
        entry_kind = per_entry.c.entry_kind
        earns = entry_kind.in_([EntryKind.EARN.value, EntryKind.ADJUST.value])
        earned = or_(
            and_(earns, net > 0),
            and_(entry_kind.in_([EntryKind.REFUND.value, EntryKind.REJECT.value]), net < 0),
        )
        redeemed = or_(
            and_(entry_kind == EntryKind.REDEEM.value, net < 0),
            and_(entry_kind == EntryKind.RETURN.value, net > 0),
        )
        per_member = (
            select(
                per_entry.c.member_id,
                _sum(per_entry.c.available).label("available"),
                _sum(per_entry.c.pending).label("pending"),
                _sum(per_entry.c.held).label("held"),
                (-_sum(per_entry.c.debt)).label("debt"),
                _sum(per_entry.c.review).label("review"),
                _sum_where(earned, net).label("earned"),
                _sum_where(redeemed, -net).label("redeemed"),
            )
            .group_by(per_entry.c.member_id)
            .subquery()
        )
        b = member_balances.c
        derived = {
            "available": func.coalesce(per_member.c.available, 0),
            "pending": func.coalesce(per_member.c.pending, 0),
            "held": func.coalesce(per_member.c.held, 0),
            "debt": func.coalesce(per_member.c.debt, 0),
            "under_review": func.coalesce(per_member.c.review, 0),
            "lifetime_earned": func.coalesce(per_member.c.earned, 0),
            "lifetime_redeemed": func.coalesce(per_member.c.redeemed, 0),
        }
        statement = (
            select(
                b.member_id, *(b[name] for name in derived), *(v.label(f"j_{k}") for k, v in derived.items())
            )
            .select_from(member_balances.outerjoin(per_member, per_member.c.member_id == b.member_id))
            .where(or_(*(b[name] != value for name, value in derived.items())))
            .order_by(b.member_id)
        )
        for row in await self._rows(statement):
            for name in derived:
                stored, journal = _n(getattr(row, name)), _n(getattr(row, f"j_{name}"))
                if stored == journal:
                    continue
                kind_ = (
                    ViolationKind.LIFETIME_MISMATCH
                    if name.startswith("lifetime")
                    else ViolationKind.BALANCE_MISMATCH
                )
                self._add(
                    kind_,
                    f"member {row.member_id} {name}: stored {stored}, journal gives {journal}",
                    member_id=row.member_id,
                )

    # (c) every lot's remaining == points - its draws, within [0, points]
    async def lots(self) -> None:
        drawn = (
            select(lot_draws.c.lot_id, func.sum(lot_draws.c.points).label("drawn"))
            .group_by(lot_draws.c.lot_id)
            .subquery()
        )
        lot = points_lots.c
        taken = func.coalesce(drawn.c.drawn, 0)
        statement = (
            select(lot.id, lot.member_id, lot.points, lot.remaining, taken.label("drawn"))
            .select_from(points_lots.outerjoin(drawn, drawn.c.lot_id == lot.id))
            .where(or_(lot.remaining != lot.points - taken, lot.remaining < 0, lot.remaining > lot.points))
            .order_by(lot.id)
        )
        for row in await self._rows(statement):
            points, remaining, drawn_points = _n(row.points), _n(row.remaining), _n(row.drawn)
            if not 0 <= remaining <= points:
                self._add(
                    ViolationKind.LOT_OUT_OF_RANGE,
                    f"lot {row.id} of member {row.member_id}: remaining {remaining} outside [0, {points}]",
                    lot_id=row.id,
                    member_id=row.member_id,
                )
            if remaining != points - drawn_points:
                self._add(
                    ViolationKind.LOT_REMAINING_MISMATCH,
                    f"lot {row.id} of member {row.member_id}: remaining {remaining}, but {points} points "
                    f"minus {drawn_points} drawn is {points - drawn_points}",
                    lot_id=row.id,
                    member_id=row.member_id,
                )

    async def lot_draw_members(self) -> None:
        statement = (
            select(
                lot_draws.c.id,
                lot_draws.c.entry_id,
                lot_draws.c.lot_id,
                lot_draws.c.member_id,
                points_lots.c.member_id.label("lot_member_id"),
            )
            .select_from(lot_draws.join(points_lots, points_lots.c.id == lot_draws.c.lot_id))
            .where(lot_draws.c.member_id != points_lots.c.member_id)
            .order_by(lot_draws.c.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.LOT_DRAW_MEMBER_MISMATCH,
                f"draw {row.id} (entry {row.entry_id}) is for member {row.member_id}, "
                f"but lot {row.lot_id} belongs to member {row.lot_member_id}",
                entry_id=row.entry_id,
                lot_id=row.lot_id,
                member_id=row.member_id,
            )

    # (d) per member, the lots' remaining points are the available balance. Today every available
    # point sits in exactly one lot (no pending lots, no expiry sweep, no holds yet).
    async def lots_vs_available(self) -> None:
        remaining = (
            select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("remaining"))
            .group_by(points_lots.c.member_id)
            .subquery()
        )
        in_lots = func.coalesce(remaining.c.remaining, 0)
        statement = (
            select(member_balances.c.member_id, member_balances.c.available, in_lots.label("in_lots"))
            .select_from(
                member_balances.outerjoin(remaining, remaining.c.member_id == member_balances.c.member_id)
            )
            .where(member_balances.c.available != in_lots)
            .order_by(member_balances.c.member_id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.LOTS_BALANCE_MISMATCH,
                f"member {row.member_id}: available {_n(row.available)}, but its lots hold {_n(row.in_lots)}",
                member_id=row.member_id,
            )

    # every credit to MEMBER_AVAILABLE created lots of exactly that many points, and only credits did
    async def lots_issued(self) -> None:
        credited = (
            select(journal_lines.c.entry_id, func.sum(journal_lines.c.amount).label("points"))
            .where(journal_lines.c.account_kind == _AVAILABLE, journal_lines.c.amount > 0)
            .group_by(journal_lines.c.entry_id)
            .subquery()
        )
        created = (
            select(points_lots.c.entry_id, func.sum(points_lots.c.points).label("points"))
            .group_by(points_lots.c.entry_id)
            .subquery()
        )
        await self._match_per_entry(
            ViolationKind.LOTS_ISSUED_MISMATCH, credited, created, "credited to available", "created as lots"
        )

    # (f) every debit from MEMBER_AVAILABLE drew exactly that many points from lots, and only debits did
    async def draws_per_entry(self) -> None:
        debited = (
            select(journal_lines.c.entry_id, (-func.sum(journal_lines.c.amount)).label("points"))
            .where(journal_lines.c.account_kind == _AVAILABLE, journal_lines.c.amount < 0)
            .group_by(journal_lines.c.entry_id)
            .subquery()
        )
        drawn = (
            select(lot_draws.c.entry_id, func.sum(lot_draws.c.points).label("points"))
            .group_by(lot_draws.c.entry_id)
            .subquery()
        )
        await self._match_per_entry(
            ViolationKind.DRAWS_MISMATCH, debited, drawn, "debited from available", "drawn from lots"
        )

    async def _match_per_entry(
        self, kind: ViolationKind, journal: Any, lots: Any, journal_says: str, lots_say: str
    ) -> None:
        """Both directions of an outer join (SQLite before 3.39 has no FULL JOIN): entries whose lot
        side differs or is missing, then lot rows for entries with nothing on the journal side."""
        mismatched = (
            select(journal.c.entry_id, journal.c.points.label("journal"), lots.c.points.label("lots"))
            .select_from(journal.outerjoin(lots, lots.c.entry_id == journal.c.entry_id))
            .where(or_(lots.c.points.is_(None), lots.c.points != journal.c.points))
            .order_by(journal.c.entry_id)
        )
        unexplained = (
            select(lots.c.entry_id, lots.c.points.label("lots"))
            .where(~exists().where(journal.c.entry_id == lots.c.entry_id))
            .order_by(lots.c.entry_id)
        )
        found = [(r.entry_id, _n(r.journal), _n(r.lots)) for r in await self._rows(mismatched)]
        found += [(r.entry_id, 0, _n(r.lots)) for r in await self._rows(unexplained)]
        for entry_id, journal_points, lot_points in sorted(found):
            self._add(
                kind,
                f"entry {entry_id}: {journal_points} points {journal_says}, {lot_points} {lots_say}",
                entry_id=entry_id,
            )

    # (e) every entry points at its business fact, of the same member
    async def origins(self) -> None:
        e = journal_entries.c
        for origin_type, table in _ORIGIN_TABLES.items():
            statement: Select[Any] = (
                select(
                    e.id,
                    e.member_id,
                    e.origin_id,
                    table.c.id.label("found"),
                    table.c.member_id.label("owner"),
                )
                .select_from(journal_entries.outerjoin(table, table.c.id == e.origin_id))
                .where(
                    e.origin_type == origin_type, or_(table.c.id.is_(None), table.c.member_id != e.member_id)
                )
                .order_by(e.id)
            )
            for row in await self._rows(statement):
                ids = {"entry_id": row.id, "member_id": row.member_id, "origin_id": row.origin_id}
                if row.found is None:
                    self._add(
                        ViolationKind.ORIGIN_MISSING,
                        f"entry {row.id}: its origin {origin_type} {row.origin_id} does not exist",
                        **ids,
                    )
                else:
                    self._add(
                        ViolationKind.ORIGIN_MEMBER_MISMATCH,
                        f"entry {row.id} is for member {row.member_id}, but its origin {origin_type} "
                        f"{row.origin_id} belongs to member {row.owner}",
                        **ids,
                    )
        unknown: Select[Any] = (
            select(e.id, e.member_id, e.origin_type, e.origin_id)
            .where(e.origin_type.not_in(list(_ORIGIN_TABLES)))
            .order_by(e.id)
        )
        for row in await self._rows(unknown):
            self._add(
                ViolationKind.ORIGIN_UNKNOWN_TYPE,
                f"entry {row.id}: unknown origin type {row.origin_type!r} ({row.origin_id})",
                entry_id=row.id,
                member_id=row.member_id,
                origin_id=row.origin_id,
            )

    # the reverse of (e): business facts that moved points have their entry
    async def facts_without_entries(self) -> None:
        facts: list[tuple[str, Any, ColumnElement[bool] | None]] = [
            (
                OriginType.PURCHASE.value,
                purchases,
                purchases.c.points_earned > 0,  # pending points are part of points_earned
            ),
            (OriginType.REDEMPTION.value, redemptions, None),
            (
                OriginType.REFUND.value,
                refunds,
                refunds.c.points_reversed + refunds.c.points_returned > 0,
            ),
            (OriginType.ADJUSTMENT.value, adjustments, None),
            (OriginType.AWARD.value, member_awards, member_awards.c.points > 0),
            (OriginType.EXPIRATION.value, expirations, None),
            (OriginType.TRANSFER.value, transfers, None),
        ]
        for origin_type, table, moved_points in facts:
            has_entry = exists().where(
                journal_entries.c.origin_type == origin_type, journal_entries.c.origin_id == table.c.id
            )
            statement = select(table.c.id, table.c.member_id).where(~has_entry)
            if moved_points is not None:
                statement = statement.where(moved_points)
            for row in await self._rows(statement.order_by(table.c.id)):
                self._add(
                    ViolationKind.ENTRY_MISSING,
                    f"{origin_type} {row.id} of member {row.member_id} has no journal entry",
                    member_id=row.member_id,
                    origin_id=row.id,
                )

    # (i) an offer's counters equal what its awards gave: budgets are exact, not approximately so.
    async def offer_usage(self) -> None:
        # A purchase award counts one use with its points (the referrer's share included), less what
        # refunds gave back; a sign-up bonus one use; a referral bonus only its points, its use being
        # the purchase award's.
        a = purchase_awards.c
        awarded = union_all(
            select(
                a.offer_id,
                (a.points - a.refunded_points).label("points"),
                (a.discount_minor + a.cashback_minor - a.refunded_money_minor).label("money"),
                case((a.use_returned, 0), else_=1).label("uses"),
            ),
            select(
                member_awards.c.offer_id,
                member_awards.c.points,
                literal(0),
                case((member_awards.c.purchase_id.is_(None), 1), else_=0),
            ),
        ).subquery()
        given = (
            select(
                awarded.c.offer_id,
                func.sum(awarded.c.points).label("points"),
                func.sum(awarded.c.money).label("money"),
                func.sum(awarded.c.uses).label("uses"),
            )
            .group_by(awarded.c.offer_id)
            .subquery()
        )
        points = func.coalesce(given.c.points, 0)
        money = func.coalesce(given.c.money, 0)
        uses = func.coalesce(given.c.uses, 0)
        statement = (
            select(
                offers.c.id,
                offers.c.points_used,
                offers.c.money_used_minor,
                offers.c.uses,
                points,
                money,
                uses,
            )
            .outerjoin(given, given.c.offer_id == offers.c.id)
            .where(
                or_(offers.c.points_used != points, offers.c.money_used_minor != money, offers.c.uses != uses)
            )
            .order_by(offers.c.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.OFFER_USAGE_MISMATCH,
                f"offer {row.id} counts ({row.points_used} points, {row.money_used_minor} money, "
                f"{row.uses} uses); its awards gave ({row[4]}, {row[5]}, {row[6]})",
            )

    # (j) every award's funding adds up to what it gave.
    async def award_funding(self) -> None:
        funded = (
            select(
                award_funding.c.award_id,
                func.sum(award_funding.c.points).label("points"),
                func.sum(award_funding.c.money_minor).label("money"),
            )
            .group_by(award_funding.c.award_id)
            .subquery()
        )
        statement = (
            select(purchase_awards.c.id, purchase_awards.c.member_id)
            .outerjoin(funded, funded.c.award_id == purchase_awards.c.id)
            .where(
                or_(
                    func.coalesce(funded.c.points, 0) != purchase_awards.c.points,
                    func.coalesce(funded.c.money, 0)
                    != purchase_awards.c.discount_minor + purchase_awards.c.cashback_minor,
                )
            )
            .order_by(purchase_awards.c.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.AWARD_FUNDING_MISMATCH,
                f"award {row.id} is not funded for exactly what it gave",
                member_id=row.member_id,
            )

    # (j') award funding rows agree with the funding accounts' journal lines, per purchase and funder.
    async def funding_journal(self) -> None:
        a, f, e, j = purchase_awards.c, award_funding.c, journal_entries.c, journal_lines.c
        account = case(
            (f.funder_kind == "MERCHANT", AccountKind.MERCHANT_FUNDING.value),
            else_=AccountKind.PARTNER_FUNDING.value,
        )
        funded = (
            select(
                a.purchase_id.label("purchase_id"),
                account.label("kind"),
                f.funder_id.label("owner"),
                f.points,
            )
            .join(award_funding, f.award_id == a.id)
            .where(f.funder_kind.in_(["MERCHANT", "PARTNER"]))
        )
        funders = j.account_kind.in_(_FUNDER_KINDS)
        earned = (
            select(e.origin_id, j.account_kind, j.owner_id, j.amount)
            .join(journal_entries, e.id == j.entry_id)
            .where(funders, e.kind == EntryKind.EARN.value, e.origin_type == OriginType.PURCHASE.value)
        )
        both = union_all(funded, earned).subquery()
        statement = (
            select(both.c.purchase_id, both.c.kind, both.c.owner, func.sum(both.c.points).label("off"))
            .group_by(both.c.purchase_id, both.c.kind, both.c.owner)
            .having(func.sum(both.c.points) != 0)
            .order_by(both.c.purchase_id, both.c.kind, both.c.owner)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.FUNDING_JOURNAL_MISMATCH,
                f"purchase {row.purchase_id}: {row.kind} {row.owner}'s award funding and its EARN line "
                f"differ by {_n(row.off)} points",
                origin_id=row.purchase_id,
            )
        rows = funded.subquery()
        paid = (
            select(rows.c.purchase_id, rows.c.kind, rows.c.owner, func.sum(rows.c.points).label("paid"))
            .group_by(rows.c.purchase_id, rows.c.kind, rows.c.owner)
            .subquery()
        )
        back = union_all(
            select(refunds.c.purchase_id, j.account_kind, j.owner_id, j.amount)
            .join(journal_entries, e.id == j.entry_id)
            .join(refunds, refunds.c.id == e.origin_id)
            .where(funders, e.kind == EntryKind.REFUND.value, e.origin_type == OriginType.REFUND.value),
            select(e.origin_id, j.account_kind, j.owner_id, j.amount)
            .join(journal_entries, e.id == j.entry_id)
            .where(funders, e.kind == EntryKind.REJECT.value, e.origin_type == OriginType.PURCHASE.value),
        ).subquery()
        returned = (
            select(
                back.c.purchase_id,
                back.c.account_kind,
                back.c.owner_id,
                func.sum(back.c.amount).label("back"),
            )
            .group_by(back.c.purchase_id, back.c.account_kind, back.c.owner_id)
            .subquery()
        )
        given = func.coalesce(paid.c.paid, 0)
        out_of_range = (
            select(
                returned.c.purchase_id, returned.c.account_kind, returned.c.owner_id, returned.c.back, given
            )
            .outerjoin(
                paid,
                (paid.c.purchase_id == returned.c.purchase_id)
                & (paid.c.kind == returned.c.account_kind)
                & (paid.c.owner == returned.c.owner_id),
            )
            .where(or_(returned.c.back < 0, returned.c.back > given))
            .order_by(returned.c.purchase_id)
        )
        for row in await self._rows(out_of_range):
            self._add(
                ViolationKind.FUNDING_JOURNAL_MISMATCH,
                f"purchase {row.purchase_id}: refunds gave {row.account_kind} {row.owner_id} back "
                f"{_n(row.back)} points of the {_n(row[4])} its awards took",
                origin_id=row.purchase_id,
            )

    # (k) refunds give back from an award no more than it gave, and never less than nothing.
    async def award_refunds(self) -> None:
        a = purchase_awards.c
        statement = (
            select(a.id, a.member_id, a.refunded_points, a.refunded_money_minor)
            .where(
                or_(
                    ~a.refunded_points.between(0, a.points),
                    ~a.refunded_money_minor.between(0, a.discount_minor + a.cashback_minor),
                )
            )
            .order_by(a.id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.AWARD_REFUND_OUT_OF_RANGE,
                f"award {row.id}: refunds gave back {row.refunded_points} points and "
                f"{row.refunded_money_minor} money, outside what it gave",
                member_id=row.member_id,
            )

    # (j) the review balance: open reviews hold exactly what the balance row says, and each review
    # holds what its earning credited to the review account
    async def reviews(self) -> None:
        r = risk_reviews.c
        open_points = (
            select(r.member_id, _sum(r.points).label("points"))
            .where(r.status == "OPEN")
            .group_by(r.member_id)
            .subquery()
        )
        b = member_balances.c
        statement = (
            select(b.member_id, b.under_review, func.coalesce(open_points.c.points, 0).label("open"))
            .select_from(member_balances.outerjoin(open_points, open_points.c.member_id == b.member_id))
            .where(b.under_review != func.coalesce(open_points.c.points, 0))
            .order_by(b.member_id)
        )
        for row in await self._rows(statement):
            self._add(
                ViolationKind.REVIEW_MISMATCH,
                f"member {row.member_id} under_review: stored {_n(row.under_review)}, open reviews hold"
                f" {_n(row.open)}",
                member_id=row.member_id,
            )
        credited = (
            select(journal_lines.c.amount)
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(
                journal_entries.c.origin_type == OriginType.PURCHASE.value,
                journal_entries.c.origin_id == r.purchase_id,
                journal_entries.c.kind == EntryKind.EARN.value,
                journal_lines.c.account_kind == _REVIEW,
            )
            .scalar_subquery()
        )
        mismatched: Select[Any] = (
            select(r.id, r.member_id, r.points, credited.label("credited"))
            .where(or_(credited.is_(None), credited != r.points))
            .order_by(r.id)
        )
        for row in await self._rows(mismatched):
            self._add(
                ViolationKind.REVIEW_MISMATCH,
                f"risk review {row.id} holds {row.points} points, its earning credited {_n(row.credited)}",
                member_id=row.member_id,
            )


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    tables = {
        "member accounts": member_balances,
        "journal entries": journal_entries,
        "journal lines": journal_lines,
        "points lots": points_lots,
        "lot draws": lot_draws,
    }
    row = (
        await conn.execute(
            select(
                *(select(func.count()).select_from(t).scalar_subquery().label(n) for n, t in tables.items())
            )
        )
    ).one()
    return {name: _n(row[i]) for i, name in enumerate(tables)}


async def _totals(conn: AsyncConnection) -> tuple[dict[str, int], dict[str, int]]:
    rows = await conn.execute(
        select(journal_lines.c.account_kind, func.sum(journal_lines.c.amount))
        .where(journal_lines.c.account_kind.not_in(_MEMBER_KINDS))
        .group_by(journal_lines.c.account_kind)
    )
    system = {k.value: 0 for k in AccountKind if k not in MEMBER_ACCOUNT_KINDS}
    system.update({kind: _n(total) for kind, total in rows})
    b = member_balances.c
    stored = (
        await conn.execute(
            select(_sum(b.available), _sum(b.pending), _sum(b.held), _sum(b.debt), _sum(b.under_review))
        )
    ).one()
    member = {
        _AVAILABLE: _n(stored[0]),
        _PENDING: _n(stored[1]),
        _HELD: _n(stored[2]),
        _DEBT: -_n(stored[3]),
        _REVIEW: _n(stored[4]),
    }
    return system, member
