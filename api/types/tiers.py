"""Tiers, a member's progress towards the next one, and its tier history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from api.access import can_read_catalogue
from api.context import Info
from api.types.activity import Money
from api.types.enums import describe_values
from api.types.ids import encode_id
from api.types.nodes import LoadedNode
from domain import money as dmoney
from domain import tiers as dt

strawberry.enum(
    dt.TierChangeReason,
    name="TierChangeReason",
    description="UPGRADE: reached a higher tier, moved up at once. GRACE: found below its tier, keeps it "
    "until graceUntil. REQUALIFIED: qualified again during the grace. DOWNGRADE: still below after the "
    "grace, moved down to the tier it reaches.",
)
describe_values(
    dt.TierChangeReason,
    {
        dt.TierChangeReason.UPGRADE: "Reached a higher tier: moved up at once.",
        dt.TierChangeReason.DOWNGRADE: "Still below its tier after the grace period: moved down to the tier "
        "it reaches.",
        dt.TierChangeReason.GRACE: "Found below its tier: keeps it until the grace period ends.",
        dt.TierChangeReason.REQUALIFIED: "Qualified again during the grace period: the grace is over.",
    },
)
TierChangeReason = dt.TierChangeReason


def _money(m: dmoney.Money | None) -> Money | None:
    return None if m is None else Money(amount_minor=m.amount_minor, currency=m.currency)


def _spend(minor: int, currency: str | None) -> Money | None:
    return None if currency is None else Money(amount_minor=minor, currency=currency)


@strawberry.type(
    description="A membership tier. A member reaches it with minPoints qualifying points OR minSpend of "
    "qualifying spend over the programme's rolling window; a tier with neither is the entry tier."
)
class Tier(LoadedNode[dt.Tier]):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique, upper case, e.g. GOLD.")
    name: str = strawberry.field(description="Its display name.")
    rank: int = strawberry.field(description="Higher is better.")
    min_points: int | None = strawberry.field(
        description="Qualifying points in the window that reach it; null: none."
    )
    min_spend: Money | None = strawberry.field(
        description="Qualifying spend in the window that reaches it; null: none."
    )
    earn_multiplier: Decimal = strawberry.field(description="Base earn x this (rounded down), e.g. 1.5.")
    is_entry: bool = strawberry.field(description="No threshold: every member is in it until it climbs.")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_domain(cls, t: dt.Tier) -> Tier:
        assert t.created_at is not None, "a stored tier"
        assert t.updated_at is not None, "a stored tier"
        return cls(
            id=t.id,
            code=t.code,
            name=t.name,
            rank=t.rank,
            min_points=t.min_points,
            min_spend=_money(t.min_spend),
            earn_multiplier=t.earn_multiplier,
            is_entry=t.is_entry,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dt.Tier | None]:
        by_id = {t.id: t for t in await info.context.loaders.ladder()}
        return [by_id.get(i) for i in ids]

    @classmethod
    def may_read(cls, info: Info, tier: dt.Tier) -> bool:
        return can_read_catalogue(info)


def tier_or_none(t: dt.Tier | None) -> Tier | None:
    return None if t is None else Tier.from_domain(t)


@strawberry.type(description="Where the member stands on the ladder over the qualification window.")
class TierProgress:
    tier: Tier | None = strawberry.field(description="The tier it holds, or the entry tier.")
    next_tier: Tier | None = strawberry.field(description="Null at the top tier.")
    qualifying_points: int = strawberry.field(description="Points its purchases earned in the window.")
    qualifying_spend: Money | None = strawberry.field(
        description="What its purchases paid in the window, in the ladder's currency (null: no spend tiers)."
    )
    points_needed: int | None = strawberry.field(
        description="Qualifying points still needed for the next tier (null: it has no points threshold)."
    )
    spend_needed: Money | None = strawberry.field(
        description="Qualifying spend still needed for the next tier (null: it has no spend threshold)."
    )
    window_start: datetime = strawberry.field(description="Where the qualification window starts.")
    tier_since: datetime | None = strawberry.field(description="When it reached its tier.")
    grace_until: datetime | None = strawberry.field(
        description="Below its tier: it keeps the tier until then, unless it qualifies again."
    )

    @classmethod
    def from_domain(cls, p: dt.TierProgress) -> TierProgress:
        q = p.qualification
        return cls(
            tier=tier_or_none(p.tier),
            next_tier=tier_or_none(p.next_tier),
            qualifying_points=q.points,
            qualifying_spend=_spend(q.spend_minor, p.currency),
            points_needed=p.points_needed,
            spend_needed=_money(p.spend_needed),
            window_start=p.window_start,
            tier_since=p.tier_since,
            grace_until=p.grace_until,
        )


@strawberry.type(description="One change of a member's tier, with the figures it was decided on.")
class TierChange:
    id: relay.GlobalID = strawberry.field(description="The change's id.")
    reason: TierChangeReason = strawberry.field(description="Why the tier changed.")
    from_tier: Tier | None = strawberry.field(description="The tier before; null: none.")
    to_tier: Tier | None = strawberry.field(description="The tier after; null: none.")
    qualifying_points: int = strawberry.field(description="Qualifying points in the window when decided.")
    qualifying_spend: Money | None = strawberry.field(
        description="Qualifying spend in the window when decided."
    )
    created_at: datetime = strawberry.field(description="When it changed.")

    @classmethod
    def from_domain(cls, c: dt.TierChange, ladder: Sequence[dt.Tier]) -> TierChange:
        by_id = {t.id: t for t in ladder}
        return cls(
            id=encode_id("TierChange", c.id),
            reason=c.reason,
            from_tier=tier_or_none(by_id.get(c.from_tier_id or 0)),
            to_tier=tier_or_none(by_id.get(c.to_tier_id or 0)),
            qualifying_points=c.qualification.points,
            qualifying_spend=_spend(c.qualification.spend_minor, dt.ladder_currency(ladder)),
            created_at=c.created_at,
        )
