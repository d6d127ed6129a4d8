"""Segment rules compiled to one SQL condition over the member facts (domain/segments.py), the same on
SQLite and PostgreSQL, and the statements that refresh the profile figures the rules read.

The facts are the member's row, its balance row, its profile figures as of the last refresh (absent
for a member enrolled since: its counts are 0 and its days count from today) and its tier. Day counts
are compared as dates, so no date arithmetic runs in SQL: "DAYS_SINCE_LAST_PURCHASE >= 30" is
"idle_since <= today - 30 days". Every value is coalesced to the documented default, so the logic is
two-valued and NOT means what `domain.segments.matches` says it means.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Dialect,
    FromClause,
    String,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import BindParameter

from domain.merchants import MerchantCategory
from domain.profiles import LONGEST_WINDOW, window_start
from domain.segments import AllOf, AnyOf, Condition, Not, Operator, Rule, RuleContext, SegmentField
from persistence.tables import (
    member_activity_days,
    member_balances,
    member_category_profiles,
    member_profiles,
    members,
    merchants,
    tiers,
)

m, b, p, t = members.c, member_balances.c, member_profiles.c, tiers.c
# Day counts beyond this are clamped: no real date is that far away, and `date` has bounds.
_MAX_DAYS = 700_000

FACTS: FromClause = (
    members.join(member_balances, member_balances.c.member_id == members.c.id)
    .outerjoin(member_profiles, member_profiles.c.member_id == members.c.id)
    .outerjoin(tiers, tiers.c.id == members.c.tier_id)
)
# A category's figures joined once per category a rule names (a hash join over the whole population,
# where a subquery per member would be a lookup per member).
_BY_CATEGORY = {c: member_category_profiles.alias(f"category_{c.value.lower()}") for c in MerchantCategory}


def facts(rule: Rule) -> FromClause:
    """FACTS with the category figures the rule reads."""
    joined = FACTS
    for category in sorted(_categories(rule), key=lambda c: c.value):
        figures = _BY_CATEGORY[category]
        joined = joined.outerjoin(
            figures,
            and_(figures.c.member_id == m.id, figures.c.category == literal(category.value, String())),
        )
    return joined


def _categories(rule: Rule) -> set[MerchantCategory]:
    if isinstance(rule, AllOf | AnyOf):
        return set().union(*(_categories(r) for r in rule.rules))
    if isinstance(rule, Not):
        return _categories(rule.rule)
    return {rule.category} if rule.category is not None else set()


def condition(rule: Rule, ctx: RuleContext) -> ColumnElement[bool]:
    """The rule as a WHERE condition over `facts(rule)`."""
    if isinstance(rule, AllOf):
        return and_(true(), *(condition(r, ctx) for r in rule.rules))
    if isinstance(rule, AnyOf):
        return or_(false(), *(condition(r, ctx) for r in rule.rules))
    if isinstance(rule, Not):
        return not_(condition(rule.rule, ctx))
    return _condition(rule, ctx)


def _day(value: date) -> BindParameter[date]:
    return literal(value, Date())


def _condition(c: Condition, ctx: RuleContext) -> ColumnElement[bool]:
    if c.field is SegmentField.TAG:
        wanted = [v.lower() for v in ((c.text,) if c.text is not None else c.values)]
        has = or_(
            false(), *(cast(m.tags, Text).like(_containing(json.dumps(v)), escape="\\") for v in wanted)
        )
        return has if c.op in (Operator.EQ, Operator.IN) else not_(has)
    if c.field in (SegmentField.DAYS_SINCE_LAST_PURCHASE, SegmentField.DAYS_SINCE_ENROLMENT):
        assert c.number is not None
        since = p.idle_since if c.field is SegmentField.DAYS_SINCE_LAST_PURCHASE else p.enrolled_on
        return _days_since(func.coalesce(since, _day(ctx.today)), c.op, c.number, ctx.today)
    if c.field.numeric:
        assert c.number is not None
        return _compare(_number(c), c.op, literal(c.number, BigInteger()))
    value = _text(c.field, ctx)
    if c.op in (Operator.IN, Operator.NOT_IN):
        inside = value.in_([literal(v, String()) for v in c.values])
        return inside if c.op is Operator.IN else not_(inside)
    return _compare(value, c.op, literal(c.text, String()))


def _containing(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _compare(left: ColumnElement[Any], op: Operator, right: ColumnElement[Any]) -> ColumnElement[bool]:
    compare: dict[Operator, Callable[[], ColumnElement[bool]]] = {
        Operator.EQ: lambda: left == right,
        Operator.NE: lambda: left != right,
        Operator.LT: lambda: left < right,
        Operator.LTE: lambda: left <= right,
        Operator.GT: lambda: left > right,
        Operator.GTE: lambda: left >= right,
    }
    return compare[op]()


# Days since a date compared with n, as the date compared with today - n: the order turns round.
_TURNED = {
    Operator.EQ: Operator.EQ,
    Operator.NE: Operator.NE,
    Operator.LT: Operator.GT,
    Operator.LTE: Operator.GTE,
    Operator.GT: Operator.LT,
    Operator.GTE: Operator.LTE,
}


def _days_since(since: ColumnElement[Any], op: Operator, days: int, today: date) -> ColumnElement[bool]:
    days = max(-_MAX_DAYS, min(_MAX_DAYS, days))
    try:
        bound = today - timedelta(days=days)
    except OverflowError:  # before year 1 or after 9999: every real date is on one side
        beyond_past = days > 0
        satisfied = {
            Operator.EQ: False,
            Operator.NE: True,
            Operator.LT: not beyond_past,
            Operator.LTE: not beyond_past,
            Operator.GT: beyond_past,
            Operator.GTE: beyond_past,
        }[op]
        return true() if satisfied else false()
    return _compare(since, _TURNED[op], _day(bound))


def _number(c: Condition) -> ColumnElement[Any]:
    columns: dict[SegmentField, ColumnElement[Any]] = {
        SegmentField.PURCHASES_30D: p.purchases_30,
        SegmentField.PURCHASES_90D: p.purchases_90,
        SegmentField.PURCHASES_365D: p.purchases_365,
        SegmentField.SPEND_30D: p.spend_30,
        SegmentField.SPEND_90D: p.spend_90,
        SegmentField.SPEND_365D: p.spend_365,
        SegmentField.AVAILABLE_POINTS: b.available,
        SegmentField.LIFETIME_EARNED: b.lifetime_earned,
        SegmentField.BIRTH_YEAR: m.birth_year,
    }
    if c.field.per_category:
        assert c.category is not None  # joined by `facts`
        figures = _BY_CATEGORY[c.category].c
        return func.coalesce(
            figures.purchases_90 if c.field is SegmentField.CATEGORY_PURCHASES_90D else figures.spend_365, 0
        )
    return func.coalesce(columns[c.field], 0)


def _text(field: SegmentField, ctx: RuleContext) -> ColumnElement[Any]:
    if field is SegmentField.LIFECYCLE_STAGE:
        return stage(ctx)
    if field is SegmentField.TIER:
        return func.coalesce(t.code, literal(ctx.entry_tier_code, String()))
    if field is SegmentField.STATUS:
        return m.status
    if field is SegmentField.REGION:
        return func.coalesce(m.region, "")
    return func.coalesce(m.income_band, "")


def stage(ctx: RuleContext) -> ColumnElement[str]:
    """domain.profiles.stage in SQL, over the refreshed figures."""
    rules, today = ctx.lifecycle, ctx.today
    enrolled = func.coalesce(p.enrolled_on, _day(today))
    idle = func.coalesce(p.idle_since, _day(today))
    return case(
        (enrolled > _day(today - timedelta(days=rules.new_member_days)), "NEW"),
        (idle <= _day(today - timedelta(days=rules.churned_after_days)), "CHURNED"),
        (
            or_(idle <= _day(today - timedelta(days=rules.dormant_after_days)), b.dormant_since.is_not(None)),
            "DORMANT",
        ),
        (idle <= _day(today - timedelta(days=rules.at_risk_after_days)), "AT_RISK"),
        else_="ACTIVE",
    )


def utc_date(column: ColumnElement[Any], dialect: Dialect) -> ColumnElement[date]:
    """The UTC day of a stored time (SQLite stores UTC text; PostgreSQL a timestamptz)."""
    if dialect.name == "sqlite":
        return func.date(column, type_=Date())
    return cast(func.timezone("UTC", column), Date)


def profile_figures(today: date, currency: str, dialect: Dialect, member_ids: list[int] | None) -> Any:
    """SELECT of member_profiles rows: every member's windows from its day counters (`member_ids`:
    only these members)."""
    a = member_activity_days.c
    since = {days: _day(window_start(today, days)) for days in (30, 90, LONGEST_WINDOW)}
    in_currency = a.currency == literal(currency, String())

    def purchases(days: int) -> ColumnElement[Any]:
        return func.sum(case((a.day >= since[days], a.purchases), else_=0))

    def spend(days: int) -> ColumnElement[Any]:
        return func.sum(case((and_(a.day >= since[days], in_currency), a.spend_minor), else_=0))

    windows = (
        select(
            a.member_id,
            purchases(30).label("p30"),
            purchases(90).label("p90"),
            purchases(365).label("p365"),
            spend(30).label("s30"),
            spend(90).label("s90"),
            spend(365).label("s365"),
            func.max(case((a.purchases > 0, a.day), else_=None)).label("last_day"),
        )
        .where(a.day >= since[LONGEST_WINDOW], a.day <= _day(today))
        .group_by(a.member_id)
    )
    if member_ids is not None:
        windows = windows.where(a.member_id.in_(member_ids))
    w = windows.subquery()
    enrolled_on = utc_date(m.enrolled_at, dialect)
    statement = select(
        m.id,
        func.coalesce(w.c.p30, 0),
        func.coalesce(w.c.p90, 0),
        func.coalesce(w.c.p365, 0),
        func.coalesce(w.c.s30, 0),
        func.coalesce(w.c.s90, 0),
        func.coalesce(w.c.s365, 0),
        enrolled_on,
        func.coalesce(w.c.last_day, enrolled_on),
        _day(today),
    ).select_from(members.outerjoin(w, w.c.member_id == m.id))
    if member_ids is not None:
        statement = statement.where(m.id.in_(member_ids))
    return statement.order_by(m.id)  # in key order: see category_figures


def category_figures(today: date, currency: str, member_ids: list[int] | None) -> Any:
    """SELECT of member_category_profiles rows: purchases over 90 days and spend over 365 by category."""
    a = member_activity_days.c
    since90, since365 = _day(window_start(today, 90)), _day(window_start(today, LONGEST_WINDOW))
    statement = (
        select(
            a.member_id,
            merchants.c.category,
            func.sum(case((a.day >= since90, a.purchases), else_=0)),
            func.sum(case((a.currency == literal(currency, String()), a.spend_minor), else_=0)),
        )
        .join(merchants, merchants.c.id == a.merchant_id)
        .where(a.day >= since365, a.day <= _day(today))
        .group_by(a.member_id, merchants.c.category)
        # In the primary key's order: the rows fill its b-tree page after page. In the hash
        # aggregate's order each lands on a random page (19 s against 11.5 s for 3,000,000 rows).
        .order_by(a.member_id, merchants.c.category)
    )
    if member_ids is not None:
        statement = statement.where(a.member_id.in_(member_ids))
    return statement
