"""Merchants, partner brands, rewards and the programme's settings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, time
from decimal import Decimal
from enum import Enum

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.merchants import Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.programme import Programme
from domain.rewards import LimitPeriod, Reward
from persistence import mapping
from persistence.catalogue import PROGRAMME_ID, Catalogue
from persistence.tables import merchants, partner_brands, programme_currencies, rewards, tiers
from persistence.tables import programme as programme_table


class SqlMerchantRepository:
    """Reads come from the catalogue cache; every write marks the catalogue changed."""

    def __init__(self, conn: AsyncConnection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue

    async def get(self, merchant_id: int) -> Merchant | None:
        return await self.catalogue.merchant(merchant_id)

    async def add(
        self,
        *,
        name: str,
        category: MerchantCategory,
        channel: MerchantChannel,
        partner_id: int | None,
        earn_rate_override: Decimal | None,
        at: datetime,
        pending_days: int | None = None,
    ) -> Merchant:
        row = (
            await self.conn.execute(
                insert(merchants)
                .values(
                    name=name,
                    category=category.value,
                    channel=channel.value,
                    partner_id=partner_id,
                    earn_rate_override=None if earn_rate_override is None else str(earn_rate_override),
                    pending_days=pending_days,
                    created_at=at,
                )
                .returning(*merchants.c)
            )
        ).one()
        await self.catalogue.changed()
        return mapping.merchant(row)


class SqlPartnerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, partner_id: int) -> PartnerBrand | None:
        row = (
            await self.conn.execute(select(partner_brands).where(partner_brands.c.id == partner_id))
        ).first()
        return mapping.partner(row) if row else None

    async def add(self, *, name: str, kind: PartnerKind, at: datetime) -> PartnerBrand:
        row = (
            await self.conn.execute(
                insert(partner_brands)
                .values(name=name, kind=kind.value, created_at=at)
                .returning(*partner_brands.c)
            )
        ).one()
        return mapping.partner(row)


class SqlRewardRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, reward_id: int) -> Reward | None:
        row = (await self.conn.execute(select(rewards).where(rewards.c.id == reward_id))).first()
        return mapping.reward(row) if row else None

    async def add(
        self,
        *,
        name: str,
        cost_points: int,
        stock: int | None,
        active: bool,
        at: datetime,
        per_member_limit: int | None = None,
        limit_period: LimitPeriod | None = None,
        tier_ids: frozenset[int] | None = None,
    ) -> Reward:
        row = (
            await self.conn.execute(
                insert(rewards)
                .values(
                    name=name,
                    cost_points=cost_points,
                    stock=stock,
                    active=active,
                    per_member_limit=per_member_limit,
                    limit_period=limit_period.value if limit_period else None,
                    tier_ids=sorted(tier_ids) if tier_ids is not None else None,
                    created_at=at,
                )
                .returning(*rewards.c)
            )
        ).one()
        return mapping.reward(row)

    async def give_back_one(self, reward_id: int) -> None:
        # An increment in the statement: racing give-backs and takes never lose a unit.
        await self.conn.execute(
            update(rewards)
            .where(rewards.c.id == reward_id, rewards.c.stock.is_not(None))
            .values(stock=rewards.c.stock + 1)
        )

    async def unknown_tiers(self, tier_ids: Collection[int]) -> set[int]:
        if not tier_ids:
            return set()
        found = await self.conn.execute(select(tiers.c.id).where(tiers.c.id.in_(list(tier_ids))))
        return set(tier_ids) - set(found.scalars())

    async def take_one(self, reward_id: int, cost_points: int) -> bool:
        # Conditional decrement: concurrent redemptions can never take the stock below zero.
        # NULL stock (unlimited) stays NULL.
        result = await self.conn.execute(
            update(rewards)
            .where(
                rewards.c.id == reward_id,
                rewards.c.active.is_(True),
                rewards.c.cost_points == cost_points,
                or_(rewards.c.stock.is_(None), rewards.c.stock > 0),
            )
            .values(stock=rewards.c.stock - 1)
        )
        return result.rowcount == 1


def _stored(value: object) -> object:
    """A setting as its column holds it: an enum (the expiry policy) as its value."""
    if isinstance(value, time):
        return value.strftime("%H:%M")  # quiet hours: local HH:MM
    return value.value if isinstance(value, Enum) else value


_SETTINGS = frozenset(
    {
        "points_validity_months",
        "expiry_policy",
        "pending_days",
        "transfer_limit_per_month",
        "hold_minutes",
        "dormant_after_days",
        "tier_window_months",
        "tier_grace_days",
        "voucher_valid_days",
        "closure_policy",
        "closure_grace_days",
        "expiry_notice_days",
        "marketing_per_week",
        "sign_up_nudge_days",
        "quiet_hours_start",
        "quiet_hours_end",
    }
)


class SqlProgrammeRepository:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def get(self) -> Programme:
        return await self.catalogue.programme()

    async def update(self, settings: Mapping[str, object]) -> None:
        values = {name: _stored(value) for name, value in settings.items()}
        unknown = set(values) - _SETTINGS
        if unknown:
            raise ValueError(f"not programme settings: {sorted(unknown)}")
        await self.catalogue.conn.execute(
            update(programme_table).where(programme_table.c.id == PROGRAMME_ID).values(values)
        )
        # The next get() in this unit of work reads the row, this change included.
        await self.catalogue.changed()

    async def set_point_values(self, values: Mapping[str, Decimal]) -> None:
        c = programme_currencies.c
        for currency, value in sorted(values.items()):
            result = await self.catalogue.conn.execute(
                update(programme_currencies).where(c.currency == currency).values(point_value=str(value))
            )
            if result.rowcount != 1:
                raise ValueError(f"not a programme currency: {currency}")
        await self.catalogue.changed()
