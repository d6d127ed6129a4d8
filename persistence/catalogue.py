"""The programme's settings, merchants, live offers, tiers and risk rules, cached per process behind a
version number.

Every purchase needs the programme's earn rates and its merchant, and both change rarely. Each
change increments `programme.catalogue_version` in the changing transaction; a unit of work reads
that one number once, and the process re-reads settings and merchants only when it has moved.
So a change is seen by every process from the next transaction that starts after it commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time
from decimal import Decimal
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.merchants import Merchant
from domain.offers import Offer, OfferIndex
from domain.programme import ClosurePolicy, ExpiryPolicy, Programme
from domain.risk import RiskRule
from domain.tiers import Tier
from persistence import mapping
from persistence.tables import merchants, programme, programme_currencies

PROGRAMME_ID = 1

_VERSION = select(programme.c.catalogue_version).where(programme.c.id == PROGRAMME_ID)
_BUMP = (
    update(programme)
    .where(programme.c.id == PROGRAMME_ID)
    .values(catalogue_version=programme.c.catalogue_version + 1)
)
_SETTINGS = select(programme).where(programme.c.id == PROGRAMME_ID)
_RATES = select(programme_currencies)
_MERCHANT = select(merchants).where(merchants.c.id == bindparam("id"))


class CatalogueCache:
    """What one process remembers, valid for one catalogue version."""

    def __init__(self) -> None:
        self.version = -1
        self.programme: Programme | None = None
        self.merchants: dict[int, Merchant | None] = {}
        self.offers: OfferIndex | None = None
        self.tiers: tuple[Tier, ...] | None = None
        self.risk_rules: tuple[RiskRule, ...] | None = None

    def move_to(self, version: int) -> None:
        self.version = version
        self.programme = None
        self.merchants = {}
        self.offers = None
        self.tiers = None
        self.risk_rules = None


_caches: WeakKeyDictionary[AsyncEngine, CatalogueCache] = WeakKeyDictionary()


def cache_for(engine: AsyncEngine) -> CatalogueCache:
    """One cache per engine, so two databases in one process (tests) never share entries."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = CatalogueCache()
    return cache


class Catalogue:
    """One unit of work's view: served from the cache when the version it read matches."""

    def __init__(self, conn: AsyncConnection, cache: CatalogueCache) -> None:
        self.conn = conn
        self.cache = cache
        self._use_cache: bool | None = None  # decided on first use

    def observe(self, version: int) -> None:
        """Take the version read by another statement of this unit of work (the member's read)."""
        if self._use_cache is None:
            if version > self.cache.version:
                self.cache.move_to(version)
            # An older version means another transaction already moved the cache on: read directly.
            self._use_cache = version == self.cache.version

    async def _cached(self) -> bool:
        if self._use_cache is None:
            self.observe((await self.conn.execute(_VERSION)).scalar_one())
        return bool(self._use_cache)

    async def programme(self) -> Programme:
        if not await self._cached():
            return await self._load_programme()
        if self.cache.programme is None:
            self.cache.programme = await self._load_programme()
        return self.cache.programme

    async def merchant(self, merchant_id: int) -> Merchant | None:
        if not await self._cached():
            return await self._load_merchant(merchant_id)
        if merchant_id not in self.cache.merchants:
            self.cache.merchants[merchant_id] = await self._load_merchant(merchant_id)
        return self.cache.merchants[merchant_id]

    async def live_offers(self, load: Callable[[], Awaitable[list[Offer]]]) -> OfferIndex:
        if not await self._cached():
            return OfferIndex(await load())
        if self.cache.offers is None:
            self.cache.offers = OfferIndex(await load())
        return self.cache.offers

    async def tiers(self, load: Callable[[], Awaitable[list[Tier]]]) -> tuple[Tier, ...]:
        """The tier ladder: once loaded, a purchase pays nothing for it, with or without tiers."""
        if not await self._cached():
            return tuple(await load())
        if self.cache.tiers is None:
            self.cache.tiers = tuple(await load())
        return self.cache.tiers

    async def risk_rules(self, load: Callable[[], Awaitable[list[RiskRule]]]) -> tuple[RiskRule, ...]:
        """The risk rules: every points movement reads them, so they cost nothing once loaded."""
        if not await self._cached():
            return tuple(await load())
        if self.cache.risk_rules is None:
            self.cache.risk_rules = tuple(await load())
        return self.cache.risk_rules

    async def changed(self) -> None:
        """Record a change to settings or merchants; this unit of work stops using the cache, since
        what it sees now is uncommitted and may yet be rolled back."""
        await self.conn.execute(_BUMP)
        self._use_cache = False

    async def _load_programme(self) -> Programme:
        settings = (await self.conn.execute(_SETTINGS)).one()
        rates = (await self.conn.execute(_RATES)).all()
        return Programme(
            name=settings.name,
            points_validity_months=settings.points_validity_months,
            transfer_limit_per_month=settings.transfer_limit_per_month,
            pending_days=settings.pending_days,
            expiry_policy=ExpiryPolicy(settings.expiry_policy),
            hold_minutes=settings.hold_minutes,
            dormant_after_days=settings.dormant_after_days,
            tier_window_months=settings.tier_window_months,
            tier_grace_days=settings.tier_grace_days,
            voucher_valid_days=settings.voucher_valid_days,
            closure_policy=ClosurePolicy(settings.closure_policy),
            closure_grace_days=settings.closure_grace_days,
            expiry_notice_days=settings.expiry_notice_days,
            marketing_per_week=settings.marketing_per_week,
            quiet_hours_start=time.fromisoformat(settings.quiet_hours_start),
            quiet_hours_end=time.fromisoformat(settings.quiet_hours_end),
            sign_up_nudge_days=settings.sign_up_nudge_days,
            earn_rates={r.currency: Decimal(r.points_per_unit) for r in rates},
            point_values={r.currency: Decimal(r.point_value) for r in rates if r.point_value is not None},
        )

    async def _load_merchant(self, merchant_id: int) -> Merchant | None:
        row = (await self.conn.execute(_MERCHANT, {"id": merchant_id})).first()
        return mapping.merchant(row) if row else None
