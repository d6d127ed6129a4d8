"""Segments (客戶分群): saved definitions of a group of members, by rules over their profiles and
behaviour, or by a list (static). Membership is materialised by a job (domain/services/segments.py).

The rule language is a tree: conditions on one member fact each (`Condition`), combined by `AllOf`,
`AnyOf` and `Not`. It is data, never code: the API builds it from typed input, the database layer
compiles it to one query (persistence/segment_sql.py), and `matches` evaluates it in memory, the
reference the compiled query is tested against.

Every fact has a value for every member (two-valued logic, so NOT is plain negation): a member with no
purchase within a year has DAYS_SINCE_LAST_PURCHASE = days since enrolment; missing profile values are
0 (BIRTH_YEAR) or "" (REGION, INCOME_BAND, TIER: the entry tier, or no tiers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.errors import Validation
from domain.merchants import MerchantCategory
from domain.profiles import LifecycleRules

MAX_DEPTH = 6
MAX_CONDITIONS = 50
MAX_TEXT = 100
MAX_VALUES = 100


class SegmentField(StrEnum):
    PURCHASES_30D = "PURCHASES_30D"
    PURCHASES_90D = "PURCHASES_90D"
    PURCHASES_365D = "PURCHASES_365D"
    SPEND_30D = "SPEND_30D"  # minor units of the profile currency, net of refunds
    SPEND_90D = "SPEND_90D"
    SPEND_365D = "SPEND_365D"
    DAYS_SINCE_LAST_PURCHASE = "DAYS_SINCE_LAST_PURCHASE"
    DAYS_SINCE_ENROLMENT = "DAYS_SINCE_ENROLMENT"
    CATEGORY_PURCHASES_90D = "CATEGORY_PURCHASES_90D"  # needs a category
    CATEGORY_SPEND_365D = "CATEGORY_SPEND_365D"  # needs a category
    AVAILABLE_POINTS = "AVAILABLE_POINTS"
    LIFETIME_EARNED = "LIFETIME_EARNED"
    BIRTH_YEAR = "BIRTH_YEAR"
    LIFECYCLE_STAGE = "LIFECYCLE_STAGE"
    TIER = "TIER"  # the tier's code
    STATUS = "STATUS"  # ACTIVE, LOCKED, CLOSED, ERASED (as stored)
    REGION = "REGION"
    INCOME_BAND = "INCOME_BAND"
    TAG = "TAG"  # EQ: has the tag; IN: has any of them; NE / NOT_IN: has none of them

    @property
    def numeric(self) -> bool:
        return self not in TEXT_FIELDS

    @property
    def per_category(self) -> bool:
        return self in (SegmentField.CATEGORY_PURCHASES_90D, SegmentField.CATEGORY_SPEND_365D)


TEXT_FIELDS = frozenset(
    {
        SegmentField.LIFECYCLE_STAGE,
        SegmentField.TIER,
        SegmentField.STATUS,
        SegmentField.REGION,
        SegmentField.INCOME_BAND,
        SegmentField.TAG,
    }
)


class Operator(StrEnum):
    EQ = "EQ"
    NE = "NE"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"
    IN = "IN"
    NOT_IN = "NOT_IN"


ORDERING = frozenset({Operator.LT, Operator.LTE, Operator.GT, Operator.GTE})
SETS = frozenset({Operator.IN, Operator.NOT_IN})


@dataclass(frozen=True, slots=True)
class Condition:
    field: SegmentField
    op: Operator
    number: int | None = None  # numeric fields with EQ, NE, LT, LTE, GT, GTE
    text: str | None = None  # text fields with EQ, NE
    values: tuple[str, ...] = ()  # text fields with IN, NOT_IN
    category: MerchantCategory | None = None  # CATEGORY_* fields


@dataclass(frozen=True, slots=True)
class AllOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    rule: Rule


Rule = Condition | AllOf | AnyOf | Not


class SegmentKind(StrEnum):
    RULES = "RULES"  # members matching the rules, kept current by the refresh job
    STATIC = "STATIC"  # the members of an uploaded list of externalRefs, as uploaded


class SegmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"  # no longer refreshed, nor usable by offers; kept for the record


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    name: str
    description: str | None
    kind: SegmentKind
    rule: Rule | None  # RULES segments only
    status: SegmentStatus
    version: int  # +1 on every change of name, description or rules
    size: int  # members now, as of the last refresh
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule is read against: the day (windows and day counts end on it), the lifecycle rules,
    and the entry tier's code (the TIER of a member holding no tier; "" without tiers)."""

    today: date
    lifecycle: LifecycleRules
    entry_tier_code: str


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One member's values of every field, as the compiled query sees them (see the module doc)."""

    numbers: Mapping[SegmentField, int]
    texts: Mapping[SegmentField, str]
    tags: frozenset[str]
    category_purchases_90d: Mapping[MerchantCategory, int]
    category_spend_365d: Mapping[MerchantCategory, int]


def validated(rule: Rule, path: tuple[str, ...] = ("rules",)) -> Rule:
    """The rule itself, or Validation naming the first thing wrong and where (depth and size limits,
    an operator the field does not take, a value of the wrong kind, a missing category)."""
    if depth(rule) > MAX_DEPTH:
        raise Validation(f"rules may nest at most {MAX_DEPTH} levels", path)
    if conditions(rule) > MAX_CONDITIONS:
        raise Validation(f"at most {MAX_CONDITIONS} conditions", path)
    _check(rule, path)
    return rule


def _check(rule: Rule, path: tuple[str, ...]) -> None:
    if isinstance(rule, AllOf | AnyOf):
        name = "all" if isinstance(rule, AllOf) else "any"
        if not rule.rules:
            raise Validation(f"`{name}` needs at least one rule", (*path, name))
        for i, inner in enumerate(rule.rules):
            _check(inner, (*path, name, str(i)))
        return
    if isinstance(rule, Not):
        _check(rule.rule, (*path, "not"))
        return
    _check_condition(rule, (*path, "condition"))


def _check_condition(c: Condition, path: tuple[str, ...]) -> None:
    if c.field.per_category != (c.category is not None):
        needs = "needs" if c.field.per_category else "takes no"
        raise Validation(f"{c.field.value} {needs} a category", (*path, "category"))
    if c.field.numeric:
        if c.op in SETS:
            raise Validation(f"{c.field.value} compares with EQ, NE, LT, LTE, GT or GTE", (*path, "op"))
        if c.number is None or c.text is not None or c.values:
            raise Validation(f"{c.field.value} compares with a number", (*path, "number"))
        if abs(c.number) > 2**53:
            raise Validation("the number is out of range", (*path, "number"))
        return
    if c.op in ORDERING:
        raise Validation(f"{c.field.value} compares with EQ, NE, IN or NOT_IN", (*path, "op"))
    if c.number is not None:
        raise Validation(f"{c.field.value} compares with text", (*path, "number"))
    if c.op in SETS:
        if c.text is not None or not c.values or len(c.values) > MAX_VALUES:
            raise Validation(f"{c.op.value} needs 1 to {MAX_VALUES} values", (*path, "values"))
        texts = c.values
    else:
        if c.text is None or c.values:
            raise Validation(f"{c.op.value} needs one text", (*path, "text"))
        texts = (c.text,)
    if any(len(t) > MAX_TEXT or "\x00" in t for t in texts):
        raise Validation(
            f"texts are at most {MAX_TEXT} characters", (*path, "values" if c.values else "text")
        )


def depth(rule: Rule) -> int:
    if isinstance(rule, AllOf | AnyOf):
        return 1 + max((depth(r) for r in rule.rules), default=0)
    if isinstance(rule, Not):
        return 1 + depth(rule.rule)
    return 1


def conditions(rule: Rule) -> int:
    if isinstance(rule, AllOf | AnyOf):
        return sum(conditions(r) for r in rule.rules)
    if isinstance(rule, Not):
        return conditions(rule.rule)
    return 1


def matches(rule: Rule, facts: MemberFacts) -> bool:
    """Whether a member with these facts belongs: the meaning the compiled query must have."""
    if isinstance(rule, AllOf):
        return all(matches(r, facts) for r in rule.rules)
    if isinstance(rule, AnyOf):
        return any(matches(r, facts) for r in rule.rules)
    if isinstance(rule, Not):
        return not matches(rule.rule, facts)
    return _holds(rule, facts)


def _holds(c: Condition, facts: MemberFacts) -> bool:
    if c.field is SegmentField.TAG:  # tags are stored lower-case
        wanted = {t.lower() for t in ((c.text,) if c.text is not None else c.values)}
        has = bool(wanted & facts.tags)
        return has if c.op in (Operator.EQ, Operator.IN) else not has
    if c.field.numeric:
        assert c.number is not None
        value = _number(c, facts)
        return {
            Operator.EQ: value == c.number,
            Operator.NE: value != c.number,
            Operator.LT: value < c.number,
            Operator.LTE: value <= c.number,
            Operator.GT: value > c.number,
            Operator.GTE: value >= c.number,
        }[c.op]
    value_text = facts.texts.get(c.field, "")
    if c.op is Operator.EQ:
        return value_text == c.text
    if c.op is Operator.NE:
        return value_text != c.text
    inside = value_text in c.values
    return inside if c.op is Operator.IN else not inside


def _number(c: Condition, facts: MemberFacts) -> int:
    if c.field is SegmentField.CATEGORY_PURCHASES_90D:
        assert c.category is not None
        return facts.category_purchases_90d.get(c.category, 0)
    if c.field is SegmentField.CATEGORY_SPEND_365D:
        assert c.category is not None
        return facts.category_spend_365d.get(c.category, 0)
    return facts.numbers.get(c.field, 0)
