"""In-memory implementations of the write-side ports in `domain/ports.py`, for unit tests.

All state lives in one `Tables` object held by a `FakeDatabase`. A `FakeUnitOfWork` snapshots the
tables when a block opens and at every commit, and restores the last snapshot when the block ends:
whatever was not committed is rolled back, as with the real unit of work. Ids come from one
sequence that, like a database sequence, is not rolled back.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from domain.audit import AuditEvent
from domain.ledger import (
    EntryKind,
    JournalEntry,
    OriginType,
)
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance, Contact, Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.money import Money
from domain.offers import Award, FirstPurchase, FunderKind, Offer, OfferIndex, OfferStatus, SkipReason, Usage
from domain.ports import StoredResponse
from domain.posting import PostingDecision, RowChange, net_rows
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase, ReasonCode
from domain.rewards import LimitPeriod, Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.risk import Counted, CounterClaim, CounterKey
from domain.security import SecurityEvent
from domain.tiers import Qualification, Tier, TierChange, TierDecision
from tests.unit.fake_member_links import FakeMemberLinkRepository, MemberLinkRow
from tests.unit.fake_risk import FakeRiskRepository, RiskTables

DEFAULT_PROGRAMME = Programme(
    name="Test Rewards",
    points_validity_months=24,
    earn_rates={"CNY": Decimal(1), "HKD": Decimal(1), "JPY": Decimal("0.05")},
)


@dataclass(frozen=True, slots=True)
class PostedEntry:
    id: int
    entry: JournalEntry
    at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    request_hash: str
    response: dict[str, object]


@dataclass
class Tables:
    members: dict[int, Member] = field(default_factory=dict)
    balances: dict[int, Balance] = field(default_factory=dict)
    merchants: dict[int, Merchant] = field(default_factory=dict)
    partners: dict[int, PartnerBrand] = field(default_factory=dict)
    rewards: dict[int, Reward] = field(default_factory=dict)
    journal: dict[int, PostedEntry] = field(default_factory=dict)
    lots: dict[int, PointsLot] = field(default_factory=dict)
    lot_draws: list[tuple[int, LotDraw]] = field(default_factory=list)  # (entry id, draw)
    purchases: dict[int, Purchase] = field(default_factory=dict)
    redemptions: dict[int, Redemption] = field(default_factory=dict)
    adjustments: dict[int, Adjustment] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRow] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    security_events: list[SecurityEvent] = field(default_factory=list)
    offers: dict[int, Offer] = field(default_factory=dict)
    expirations: dict[int, tuple[int, int, datetime]] = field(default_factory=dict)
    offer_usage: dict[int, Usage] = field(default_factory=dict)  # member_uses unused here
    offer_member_uses: dict[tuple[int, int, datetime], int] = field(default_factory=dict)
    awards: list[tuple[int, Award]] = field(default_factory=list)  # (purchase id, award)
    member_awards: list[tuple[int, int, int, str, int]] = field(
        default_factory=list
    )  # id, member, offer, why, points
    tiers: dict[int, Tier] = field(default_factory=dict)
    tier_changes: list[TierChange] = field(default_factory=list)
    redemption_codes: dict[str, tuple[int, datetime, datetime | None]] = field(
        default_factory=dict
    )  # hash -> (member, expires at, used at)
    codes_earned: dict[str, datetime] = field(default_factory=dict)  # hash -> earned at
    member_links: dict[tuple[int, int], MemberLinkRow] = field(default_factory=dict)  # (merchant, member)
    tier_ids: set[int] = field(default_factory=set)
    risk: RiskTables = field(default_factory=RiskTables)


class FakeDatabase:
    def __init__(self, programme: Programme = DEFAULT_PROGRAMME) -> None:
        self.tables = Tables()
        self.programme = programme
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)


class _Repository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.tables


class FakeMemberRepository(_Repository):
    async def get(self, member_id: int) -> Member | None:
        return self.t.members.get(member_id)

    async def get_by_external_ref(self, external_ref: str) -> Member | None:
        return next((m for m in self.t.members.values() if m.external_ref == external_ref), None)

    async def get_by_referral_code(self, referral_code: str) -> Member | None:
        return next((m for m in self.t.members.values() if m.referral_code == referral_code), None)

    async def add(
        self,
        *,
        external_ref: str,
        profile: Profile,
        contact: Contact,
        referral_code: str,
        referred_by: int | None,
        at: datetime,
    ) -> Member:
        member = Member(
            id=self.db.next_id(),
            external_ref=external_ref,
            status=MemberStatus.ACTIVE,
            referral_code=referral_code,
            enrolled_at=at,
            profile=profile,
            contact=contact,
            referred_by=referred_by,
        )
        self.t.members[member.id] = member
        self.t.balances[member.id] = Balance(member.id, 0, 0, 0, 0, 0)
        return member

    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None:
        self.t.members[member_id] = replace(self.t.members[member_id], status=status, status_reason=reason)

    async def erase(self, member_id: int, *, pseudonym: str, referral_code: str) -> None:
        self.t.members[member_id] = replace(
            self.t.members[member_id],
            external_ref=pseudonym,
            referral_code=referral_code,
            status=MemberStatus.ERASED,
            status_reason="personal data erased",
            profile=Profile(),
            contact=Contact(),
        )

    async def record_activity(self, member_id: int, at: datetime) -> None:
        return None  # the fakes keep no activity times

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> int:
        return 0  # the fakes keep no activity times: the dormancy job is tested on the databases


class FakeTierRepository(_Repository):
    """The ladder, members' tier changes and qualification as the SQL repository computes them
    (purchases here carry no refunds)."""

    async def ladder(self) -> list[Tier]:
        return sorted(self.t.tiers.values(), key=lambda t: t.rank)

    async def add(self, tier: Tier, at: datetime) -> Tier:
        stored = replace(tier, id=self.db.next_id(), created_at=at, updated_at=at)
        self.t.tiers[stored.id] = stored
        return stored

    async def update(self, tier: Tier, at: datetime) -> Tier:
        self.t.tiers[tier.id] = replace(tier, updated_at=at)
        return self.t.tiers[tier.id]

    async def qualification(self, member_id: int, since: datetime, currency: str | None) -> Qualification:
        mine = [p for p in self.t.purchases.values() if p.member_id == member_id and p.occurred_at >= since]
        return Qualification(
            sum(p.points_earned for p in mine),
            sum(p.amount.amount_minor for p in mine if p.amount.currency == currency),
        )

    async def apply(self, member: Member, decision: TierDecision, q: Qualification, at: datetime) -> bool:
        held = self.t.members[member.id]
        if (held.tier_id, held.tier_grace_until) != (member.tier_id, member.tier_grace_until):
            return False
        changed = replace(held, tier_grace_until=decision.grace_until)
        if decision.moves:
            to_id = None if decision.to_tier is None else decision.to_tier.id
            changed = replace(changed, tier_id=to_id, tier_since=at)
        self.t.members[member.id] = changed
        self.t.tier_changes.append(
            TierChange(
                self.db.next_id(),
                member.id,
                None if decision.from_tier is None else decision.from_tier.id,
                None if decision.to_tier is None else decision.to_tier.id,
                decision.reason,
                q,
                at,
            )
        )
        return True

    async def members_to_evaluate(
        self, since: datetime, after: int, limit: int, entry_tier_id: int | None
    ) -> list[int]:
        bought = {p.member_id for p in self.t.purchases.values() if p.occurred_at >= since}
        found = [
            m.id
            for m in self.t.members.values()
            if m.id > after
            and (m.tier_id not in (None, entry_tier_id) or m.tier_grace_until is not None or m.id in bought)
        ]
        return sorted(found)[:limit]

    async def member_tier_ids(self, member_ids: Collection[int]) -> dict[int, int | None]:
        return {m: self.t.members[m].tier_id for m in member_ids if m in self.t.members}


class FakeMerchantRepository(_Repository):
    async def get(self, merchant_id: int) -> Merchant | None:
        return self.t.merchants.get(merchant_id)

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
        merchant = Merchant(
            self.db.next_id(), name, category, channel, partner_id, earn_rate_override, at, pending_days
        )
        self.t.merchants[merchant.id] = merchant
        return merchant


class FakePartnerRepository(_Repository):
    async def get(self, partner_id: int) -> PartnerBrand | None:
        return self.t.partners.get(partner_id)

    async def add(self, *, name: str, kind: PartnerKind, at: datetime) -> PartnerBrand:
        partner = PartnerBrand(self.db.next_id(), name, kind, at)
        self.t.partners[partner.id] = partner
        return partner


class FakeRewardRepository(_Repository):
    async def get(self, reward_id: int) -> Reward | None:
        return self.t.rewards.get(reward_id)

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
        reward = Reward(
            self.db.next_id(), name, cost_points, stock, active, at, per_member_limit, limit_period, tier_ids
        )
        self.t.rewards[reward.id] = reward
        return reward

    async def give_back_one(self, reward_id: int) -> None:
        reward = self.t.rewards[reward_id]
        if reward.stock is not None:
            self.t.rewards[reward_id] = replace(reward, stock=reward.stock + 1)

    async def unknown_tiers(self, tier_ids: Collection[int]) -> set[int]:
        return set(tier_ids) - self.t.tier_ids

    async def take_one(self, reward_id: int, cost_points: int) -> bool:
        reward = self.t.rewards.get(reward_id)
        if reward is None or not reward.active or reward.cost_points != cost_points:
            return False
        if reward.stock is None:
            return True
        if reward.stock <= 0:
            return False
        self.t.rewards[reward_id] = replace(reward, stock=reward.stock - 1)
        return True


class FakeProgrammeRepository(_Repository):
    async def get(self) -> Programme:
        return self.db.programme

    async def update(self, settings: Mapping[str, object]) -> None:
        self.db.programme = replace(self.db.programme, **settings)  # type: ignore[arg-type]


class FakeLedgerRepository(_Repository):
    """Writes what `domain.posting` decided, guarded like the SQL repository; keeps no state of its own."""

    async def apply(self, decision: PostingDecision, at: datetime) -> int:
        for row in decision.rows:
            self._write_row(row, at)
        entry_id = self.db.next_id()
        self.t.journal[entry_id] = PostedEntry(entry_id, decision.entry, at)
        for lot in decision.lots:
            lot_id = self.db.next_id()
            self.t.lots[lot_id] = PointsLot(
                lot_id, lot.member_id, lot.points, lot.points, lot.earned_at, lot.expires_at
            )
        return entry_id

    async def apply_many(self, decisions: Sequence[PostingDecision], at: datetime) -> list[int]:
        for row in net_rows(decisions):
            self._write_row(row, at)
        return [await self.apply(replace(d, rows=()), at) for d in decisions]

    def _write_row(self, row: RowChange, at: datetime) -> None:
        if self.t.balances.get(row.member_id) != row.before:
            raise RuntimeError(f"member {row.member_id}'s balance changed under its lock")
        self.t.balances[row.member_id] = row.after
        member = self.t.members.get(row.member_id)
        if row.active and member is not None:
            self.t.members[row.member_id] = replace(member, last_activity_at=at, dormant_since=None)

    async def post_at_once(self, entry: JournalEntry, at: datetime, lots: Sequence[NewLot]) -> int | None:
        return None  # no one-statement optimisation here: every posting takes the general path

    async def balance(self, member_id: int) -> Balance | None:
        return self.t.balances.get(member_id)

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        return {m: self.t.balances[m] for m in sorted(member_ids) if m in self.t.balances}


class FakeLotRepository(_Repository):
    async def expired(self, member_id: int, now: datetime) -> list[PointsLot]:
        lots = [
            lot
            for lot in self.t.lots.values()
            if lot.member_id == member_id and lot.remaining > 0 and lot.expires_at <= now
        ]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))

    async def members_with_expired(self, now: datetime, after: int, limit: int) -> list[int]:
        found = {lot.member_id for lot in self.t.lots.values() if lot.remaining > 0 and lot.expires_at <= now}
        return sorted(m for m in found if m > after)[:limit]

    async def add_expiration(self, member_id: int, points: int, at: datetime) -> int:
        expiration_id = self.db.next_id()
        self.t.expirations[expiration_id] = (member_id, points, at)
        return expiration_id

    async def spendable(self, member_id: int) -> list[PointsLot]:
        lots = [lot for lot in self.t.lots.values() if lot.member_id == member_id and lot.remaining > 0]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))

    async def consume(self, entry_id: int, member_id: int, draws: Sequence[LotDraw], at: datetime) -> None:
        for draw in draws:
            lot = self.t.lots[draw.lot_id]
            if lot.remaining < draw.points:
                raise RuntimeError(f"lot {draw.lot_id} has less than {draw.points} points left")
            self.t.lots[draw.lot_id] = replace(lot, remaining=lot.remaining - draw.points)
            self.t.lot_draws.append((entry_id, draw))

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        drawn = []
        for entry_id, draw in self.t.lot_draws:
            entry = self.t.journal[entry_id].entry
            if (entry.origin_type, entry.origin_id, entry.kind) == (origin_type, origin_id, kind):
                drawn.append(DrawnPoints(draw.lot_id, draw.points, self.t.lots[draw.lot_id].expires_at))
        return drawn


class FakePurchaseRepository(_Repository):
    async def get(self, purchase_id: int) -> Purchase | None:
        return self.t.purchases.get(purchase_id)

    async def add(
        self,
        *,
        member_id: int,
        merchant_id: int,
        amount: Money,
        channel: Channel,
        occurred_at: datetime,
        reference: str | None,
        points_earned: int,
        points_pending: int,
        at: datetime,
        matures_at: datetime | None = None,
        coupon_id: int | None = None,
    ) -> Purchase:
        purchase = Purchase(
            self.db.next_id(),
            member_id,
            merchant_id,
            amount,
            channel,
            occurred_at,
            reference,
            points_earned,
            points_pending,
            at,
        )
        self.t.purchases[purchase.id] = purchase
        return purchase

    async def add_claiming(
        self, claims: Sequence[CounterClaim], /, **purchase: Any
    ) -> tuple[Purchase, Mapping[CounterKey, Counted]]:
        return await self.add(**purchase), await FakeRiskRepository(self.db).claim(claims)

    async def firsts(self, member_id: int, merchant: Merchant) -> frozenset[FirstPurchase]:
        mine = [p for p in self.t.purchases.values() if p.member_id == member_id]
        partner_merchants = {m.id for m in self.t.merchants.values() if m.partner_id == merchant.partner_id}
        kinds = set()
        if not mine:
            kinds.add(FirstPurchase.EVER)
        if all(p.merchant_id != merchant.id for p in mine):
            kinds.add(FirstPurchase.AT_MERCHANT)
        if merchant.partner_id is not None and all(p.merchant_id not in partner_merchants for p in mine):
            kinds.add(FirstPurchase.AT_PARTNER)
        return frozenset(kinds)


class FakeRedemptionRepository(_Repository):
    async def add(
        self,
        *,
        member_id: int,
        reward_id: int | None,
        points: int,
        status: RedemptionStatus,
        at: datetime,
        kind: RedemptionKind = RedemptionKind.REWARD,
        merchant_id: int | None = None,
        hold_expires_at: datetime | None = None,
    ) -> Redemption:
        redemption = Redemption(
            self.db.next_id(),
            member_id,
            reward_id,
            points,
            status,
            at,
            kind=kind,
            merchant_id=merchant_id,
            hold_expires_at=hold_expires_at,
        )
        self.t.redemptions[redemption.id] = redemption
        return redemption

    async def get(self, redemption_id: int) -> Redemption | None:
        return self.t.redemptions.get(redemption_id)

    async def finish(
        self,
        redemption_id: int,
        *,
        from_status: RedemptionStatus,
        to_status: RedemptionStatus,
        at: datetime,
        captured_points: int | None = None,
        purchase_id: int | None = None,
        points_returned: int = 0,
    ) -> bool:
        redemption = self.t.redemptions[redemption_id]
        if redemption.status is not from_status:
            return False
        self.t.redemptions[redemption_id] = replace(
            redemption,
            status=to_status,
            captured_points=captured_points,
            purchase_id=purchase_id,
            points_returned=redemption.points_returned + points_returned,
            finalized_at=at,
        )
        return True

    async def count_towards_limit(self, member_id: int, reward_id: int, since: datetime | None) -> int:
        return sum(
            1
            for r in self.t.redemptions.values()
            if (r.member_id, r.reward_id) == (member_id, reward_id)
            and r.status.counts_towards_limit
            and (since is None or r.created_at >= since)
        )

    async def holds_due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        due = [
            (r.id, r.member_id)
            for r in self.t.redemptions.values()
            if r.status is RedemptionStatus.AUTHORIZED and r.hold_lapsed(now) and r.id > after
        ]
        return sorted(due)[:limit]


class FakeRedemptionCodeRepository(_Repository):
    async def add(self, member_id: int, code_hash: str, expires_at: datetime, at: datetime) -> bool:
        if code_hash in self.t.redemption_codes:
            return False
        self.t.redemption_codes[code_hash] = (member_id, expires_at, None)
        return True

    async def use(self, code_hash: str, now: datetime) -> int | None:
        found = self.t.redemption_codes.get(code_hash)
        if found is None or found[2] is not None or found[1] <= now:
            return None
        self.t.redemption_codes[code_hash] = (found[0], found[1], now)
        return found[0]

    async def use_for_purchase(self, code_hash: str, now: datetime) -> int | None:
        member_id = await self.holder(code_hash, now)
        if member_id is not None:
            self.t.codes_earned[code_hash] = now
        return member_id

    async def holder(self, code_hash: str, now: datetime) -> int | None:
        found = self.t.redemption_codes.get(code_hash)
        if found is None or code_hash in self.t.codes_earned or found[1] <= now:
            return None
        return found[0]


class FakeAdjustmentRepository(_Repository):
    async def add(
        self,
        *,
        member_id: int,
        points: int,
        reason_code: ReasonCode,
        note: str | None,
        actor: str,
        at: datetime,
    ) -> Adjustment:
        adjustment = Adjustment(self.db.next_id(), member_id, points, reason_code, note, actor, at)
        self.t.adjustments[adjustment.id] = adjustment
        return adjustment


class FakeIdempotencyStore(_Repository):
    async def record(
        self, scope: str, key: str, request_hash: str, response: dict[str, object], at: datetime
    ) -> StoredResponse | None:
        if (earlier := await self.stored(scope, key)) is not None:
            return earlier
        # Stored as JSON by the real store: a response that does not survive the round trip fails here.
        self.t.idempotency[(scope, key)] = IdempotencyRow(request_hash, json.loads(json.dumps(response)))
        return None

    async def stored(self, scope: str, key: str) -> StoredResponse | None:
        row = self.t.idempotency.get((scope, key))
        return None if row is None else StoredResponse(row.request_hash, row.response)


class FakeOfferRepository(_Repository):
    """The offer store as the SQL one behaves: claims check and count the same limits."""

    async def add(self, offer: Offer, at: datetime) -> Offer:
        stored = replace(offer, id=self.db.next_id(), version=1)
        self.t.offers[stored.id] = stored
        return stored

    async def update(self, offer: Offer, at: datetime) -> Offer:
        stored = replace(offer, version=self.t.offers[offer.id].version + 1)
        self.t.offers[offer.id] = stored
        return stored

    async def usage_of(self, offer_id: int) -> Usage:
        return self.t.offer_usage.get(offer_id, Usage())

    async def get(self, offer_id: int) -> Offer | None:
        return self.t.offers.get(offer_id)

    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None:
        self.t.offers[offer_id] = replace(self.t.offers[offer_id], status=status)

    async def live(self) -> list[Offer]:
        return [o for o in self.t.offers.values() if o.status is OfferStatus.ACTIVE]

    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        return OfferIndex(await self.live()).for_merchant(merchant)

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]:
        return [
            o.id
            for o in self.t.offers.values()
            if any(f.kind is kind and f.funder_id == funder_id for f in o.funding)
        ]

    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]:
        return {
            i: replace(
                self.t.offer_usage.get(i, Usage()),
                member_uses=self.t.offer_member_uses.get((i, member_id, periods.get(i, _NO_PERIOD)), 0),
            )
            for i in offer_ids
        }

    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        award_id = self.db.next_id()
        self.t.member_awards.append((award_id, member_id, offer.id, reason, points))
        return award_id

    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        self.t.awards += [(purchase_id, award) for award in awards]

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | None:
        used = self.t.offer_usage.get(offer.id, Usage())
        limits = offer.limits
        member_key = (offer.id, member_id, period_start)
        if limits.per_member is not None and self.t.offer_member_uses.get(member_key, 0) >= limits.per_member:
            return SkipReason.MEMBER_LIMIT_REACHED
        if self.t.offers[offer.id].status is not OfferStatus.ACTIVE:
            return SkipReason.NOT_ACTIVE
        if limits.max_uses is not None and used.uses >= limits.max_uses:
            return SkipReason.GLOBAL_LIMIT_REACHED
        if (limits.budget_points is not None and used.points + points > limits.budget_points) or (
            limits.budget_money is not None
            and used.money_minor + money_minor > limits.budget_money.amount_minor
        ):
            return SkipReason.BUDGET_EXHAUSTED
        self.t.offer_usage[offer.id] = Usage(
            used.points + points, used.money_minor + money_minor, used.uses + 1
        )
        if limits.per_member is not None:
            self.t.offer_member_uses[member_key] = self.t.offer_member_uses.get(member_key, 0) + 1
        return None


_NO_PERIOD = datetime.min


class FakeAuditLog(_Repository):
    async def record(self, event: AuditEvent) -> None:
        self.t.audit.append(event)


class FakeSecurityEventLog(_Repository):
    async def record(self, event: SecurityEvent) -> None:
        self.t.security_events.append(event)


class FakeUnitOfWork:
    """Re-enterable: each `async with` is one transaction, rolled back unless committed."""

    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db or FakeDatabase()
        self.commits = 0
        self._committed_state: Tables | None = None
        self.members = FakeMemberRepository(self.db)
        self.merchants = FakeMerchantRepository(self.db)
        self.partners = FakePartnerRepository(self.db)
        self.rewards = FakeRewardRepository(self.db)
        self.programme = FakeProgrammeRepository(self.db)
        self.ledger = FakeLedgerRepository(self.db)
        self.lots = FakeLotRepository(self.db)
        self.purchases = FakePurchaseRepository(self.db)
        self.redemptions = FakeRedemptionRepository(self.db)
        self.redemption_codes = FakeRedemptionCodeRepository(self.db)
        self.member_links = FakeMemberLinkRepository(self.db)
        self.adjustments = FakeAdjustmentRepository(self.db)
        self.idempotency = FakeIdempotencyStore(self.db)
        self.audit = FakeAuditLog(self.db)
        self.security_events = FakeSecurityEventLog(self.db)
        self.offers = FakeOfferRepository(self.db)
        self.tiers = FakeTierRepository(self.db)
        self.risk = FakeRiskRepository(self.db)

    @property
    def committed(self) -> bool:
        return self.commits > 0

    async def __aenter__(self) -> Self:
        assert self._committed_state is None, "the unit of work is already open"
        self._committed_state = copy.deepcopy(self.db.tables)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._committed_state is not None
        self.db.tables, self._committed_state = self._committed_state, None  # roll back what is uncommitted

    async def commit(self) -> None:
        assert self._committed_state is not None, "commit outside the unit of work"
        self._committed_state = copy.deepcopy(self.db.tables)
        self.commits += 1
