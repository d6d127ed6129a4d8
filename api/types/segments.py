"""Segments as the API shows them (ADMIN only), and the typed rule language's input and output."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.types.enums import MerchantCategory, describe_values
from api.types.nodes import LoadedNode
from api.types.pagination import After, First, connection
from domain import segments as ds
from domain.actors import Role
from domain.errors import Validation

if TYPE_CHECKING:
    from api.types.members import Member

strawberry.enum(ds.SegmentField, name="SegmentField", description="A member fact a segment rule tests.")
describe_values(
    ds.SegmentField,
    {
        ds.SegmentField.PURCHASES_30D: "Purchases not fully refunded over the last 30 days.",
        ds.SegmentField.PURCHASES_90D: "Purchases not fully refunded over the last 90 days.",
        ds.SegmentField.PURCHASES_365D: "Purchases not fully refunded over the last 365 days.",
        ds.SegmentField.SPEND_30D: "Spend net of refunds over 30 days, in minor units (profile currency).",
        ds.SegmentField.SPEND_90D: "Spend net of refunds over 90 days, in minor units.",
        ds.SegmentField.SPEND_365D: "Spend net of refunds over 365 days, in minor units.",
        ds.SegmentField.DAYS_SINCE_LAST_PURCHASE: "Days since the last purchase, else since enrolment.",
        ds.SegmentField.DAYS_SINCE_ENROLMENT: "Days since the member enrolled.",
        ds.SegmentField.CATEGORY_PURCHASES_90D: "Purchases over 90 days at merchants of `category`.",
        ds.SegmentField.CATEGORY_SPEND_365D: "Spend over 365 days at merchants of `category` (minor units).",
        ds.SegmentField.AVAILABLE_POINTS: "Points the member may spend now.",
        ds.SegmentField.LIFETIME_EARNED: "All points the member ever earned.",
        ds.SegmentField.BIRTH_YEAR: "Birth year from the profile; 0 when not given.",
        ds.SegmentField.LIFECYCLE_STAGE: "NEW, ACTIVE, AT_RISK, DORMANT or CHURNED (lifecycleRules).",
        ds.SegmentField.TIER: "The code of the member's tier (the entry tier's when it holds none).",
        ds.SegmentField.STATUS: "ACTIVE, LOCKED, CLOSED or ERASED.",
        ds.SegmentField.REGION: "The profile's region; empty when not given.",
        ds.SegmentField.INCOME_BAND: "The profile's income band; empty when not given.",
        ds.SegmentField.TAG: "EQ / IN: has the tag (any of them); NE / NOT_IN: has none of them.",
    },
)
SegmentField = ds.SegmentField
strawberry.enum(ds.Operator, name="SegmentOperator", description="How a condition compares the fact.")
describe_values(
    ds.Operator,
    {
        ds.Operator.EQ: "Equal to `number` or `text`.",
        ds.Operator.NE: "Not equal to `number` or `text`.",
        ds.Operator.LT: "Less than `number` (numeric facts).",
        ds.Operator.LTE: "At most `number` (numeric facts).",
        ds.Operator.GT: "More than `number` (numeric facts).",
        ds.Operator.GTE: "At least `number` (numeric facts).",
        ds.Operator.IN: "One of `values` (text facts).",
        ds.Operator.NOT_IN: "None of `values` (text facts).",
    },
)
SegmentOperator = ds.Operator
strawberry.enum(ds.SegmentKind, name="SegmentKind", description="How a segment's members are decided.")
describe_values(
    ds.SegmentKind,
    {
        ds.SegmentKind.RULES: "The members its rules match, kept current by the refresh job.",
        ds.SegmentKind.STATIC: "The members of the list it was created with.",
    },
)
SegmentKind = ds.SegmentKind
strawberry.enum(ds.SegmentStatus, name="SegmentStatus", description="Whether a segment is in use.")
describe_values(
    ds.SegmentStatus,
    {
        ds.SegmentStatus.ACTIVE: "Refreshed and usable.",
        ds.SegmentStatus.ARCHIVED: "No longer refreshed; kept for the record.",
    },
)
SegmentStatus = ds.SegmentStatus


@strawberry.type(description="One test of one member fact.")
class SegmentCondition:
    field: SegmentField = strawberry.field(description="The fact tested.")
    op: SegmentOperator = strawberry.field(description="How it is compared.")
    number: int | None = strawberry.field(description="For numeric facts.")
    text: str | None = strawberry.field(description="For text facts with EQ or NE.")
    values: list[str] = strawberry.field(description="For text facts with IN or NOT_IN.")
    category: MerchantCategory | None = strawberry.field(description="For the CATEGORY_ facts.")


@strawberry.type(description="A segment rule: exactly one of all, any, not and condition is set.")
class SegmentRule:
    all: list[SegmentRule] | None = strawberry.field(description="Every one of these holds.")
    any: list[SegmentRule] | None = strawberry.field(description="At least one of these holds.")
    not_: SegmentRule | None = strawberry.field(name="not", description="This does not hold.")
    condition: SegmentCondition | None = strawberry.field(description="One test.")

    @classmethod
    def from_domain(cls, rule: ds.Rule) -> SegmentRule:
        if isinstance(rule, ds.AllOf):
            return cls(all=[cls.from_domain(r) for r in rule.rules], any=None, not_=None, condition=None)
        if isinstance(rule, ds.AnyOf):
            return cls(all=None, any=[cls.from_domain(r) for r in rule.rules], not_=None, condition=None)
        if isinstance(rule, ds.Not):
            return cls(all=None, any=None, not_=cls.from_domain(rule.rule), condition=None)
        condition = SegmentCondition(
            field=rule.field,
            op=rule.op,
            number=rule.number,
            text=rule.text,
            values=list(rule.values),
            category=rule.category,
        )
        return cls(all=None, any=None, not_=None, condition=condition)


@strawberry.input(
    description="One test of one member fact: give `number`, `text` or `values` as the fact takes."
)
class SegmentConditionInput:
    field: SegmentField = strawberry.field(description="The fact tested.")
    op: SegmentOperator = strawberry.field(description="How it is compared.")
    number: int | None = strawberry.field(default=None, description="For numeric facts.")
    text: str | None = strawberry.field(default=None, description="For text facts with EQ or NE.")
    values: list[str] | None = strawberry.field(default=None, description="For text facts with IN or NOT_IN.")
    category: MerchantCategory | None = strawberry.field(default=None, description="For the CATEGORY_ facts.")


@strawberry.input(description="A segment rule: give exactly one of all, any, not and condition.")
class SegmentRuleInput:
    all: list[SegmentRuleInput] | None = strawberry.field(default=None, description="Every one holds.")
    any: list[SegmentRuleInput] | None = strawberry.field(default=None, description="At least one holds.")
    not_: SegmentRuleInput | None = strawberry.field(default=None, name="not", description="Does not hold.")
    condition: SegmentConditionInput | None = strawberry.field(default=None, description="One test.")


def to_rule(given: SegmentRuleInput, path: tuple[str, ...] = ("rules",), depth: int = 0) -> ds.Rule:
    """The domain rule the input describes (its validation follows in the use case); Validation when a
    node does not give exactly one part, or nests too deep to be read at all."""
    if depth > ds.MAX_DEPTH:
        raise Validation(f"rules may nest at most {ds.MAX_DEPTH} levels", path)
    parts = [p for p in (given.all, given.any, given.not_, given.condition) if p is not None]
    if len(parts) != 1:
        raise Validation("give exactly one of all, any, not and condition", path)
    if given.all is not None:
        return ds.AllOf(tuple(to_rule(r, (*path, "all", str(i)), depth + 1) for i, r in enumerate(given.all)))
    if given.any is not None:
        return ds.AnyOf(tuple(to_rule(r, (*path, "any", str(i)), depth + 1) for i, r in enumerate(given.any)))
    if given.not_ is not None:
        return ds.Not(to_rule(given.not_, (*path, "not"), depth + 1))
    c = given.condition
    assert c is not None
    return ds.Condition(
        c.field, c.op, number=c.number, text=c.text, values=tuple(c.values or ()), category=c.category
    )


@strawberry.type(description="A segment's size at the end of one day's refresh.")
class SegmentSize:
    day: date = strawberry.field(description="The UTC day.")
    size: int = strawberry.field(description="Members in the segment.")


@strawberry.type(description="A saved group of members, by rules or by list (ADMIN).")
class Segment(LoadedNode[ds.Segment]):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique among segments.")
    description: str | None = strawberry.field(description="What the segment is for.")
    kind: SegmentKind = strawberry.field(description="By rules or by list.")
    status: SegmentStatus = strawberry.field(description="Whether it is refreshed and usable.")
    version: int = strawberry.field(description="1, plus one for every change of name, description or rules.")
    size: int = strawberry.field(description="Its members at the last refresh.")
    refreshed_at: datetime | None = strawberry.field(description="When its members were last matched.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    rules: SegmentRule | None = strawberry.field(description="Its rules; null for a static segment.")

    @strawberry.field(description="Its members, by member id, as of the last refresh; contact data masked.")
    async def members(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Annotated[Member, strawberry.lazy("api.types.members")]]:
        from api.types.members import Member

        reader = info.context.reader
        return await connection(
            first=first,
            after=after,
            fetch=lambda position, limit: reader.segment_member_page(self.id, position, limit),
            key=lambda m: m.id,
            node=lambda m: Member.from_domain(m, listed=True),
        )

    @strawberry.field(description="Its size at the end of each of the last `days` days' refreshes.")
    async def sizes(
        self, info: Info, days: Annotated[int, strawberry.argument(description="1 to 366.")] = 30
    ) -> list[SegmentSize]:
        days = max(1, min(days, 366))
        since = info.context.clock.now().date() - timedelta(days=days - 1)
        found = await info.context.reader.segment_sizes(self.id, since)
        return [SegmentSize(day=day, size=size) for day, size in found]

    @classmethod
    def from_domain(cls, s: ds.Segment) -> Segment:
        return cls(
            id=s.id,
            name=s.name,
            description=s.description,
            kind=s.kind,
            status=s.status,
            version=s.version,
            size=s.size,
            refreshed_at=s.refreshed_at,
            created_at=s.created_at,
            updated_at=s.updated_at,
            rules=None if s.rule is None else SegmentRule.from_domain(s.rule),
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[ds.Segment | None]:
        return await info.context.reader.segments(ids)

    @classmethod
    def may_read(cls, info: Info, segment: ds.Segment) -> bool:
        actor = info.context.actor
        return actor is not None and actor.role is Role.ADMIN


@strawberry.type(description="What a rule would give now, over the last refresh's figures (ADMIN).")
class SegmentPreview:
    size: int = strawberry.field(description="How many members the rule matches.")
    sample: list[Annotated[Member, strawberry.lazy("api.types.members")]] = strawberry.field(
        description="The first of them by member id; contact data masked."
    )
