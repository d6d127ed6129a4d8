"""The ports the domain needs, declared here and implemented by `persistence/` (and by fakes in tests).

Write side: repositories behind a unit of work that rolls back unless committed.
Read side: batch and page readers for the API; each call is independent of any unit of work.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from domain.audit import AuditEvent
from domain.ledger import Account, EntryKind, JournalEntry, MemberPosting, OriginType
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance, Contact, Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.money import Money
from domain.movements import Expiration, MemberAward, Transfer
from domain.offers import (
    Award,
    CampaignTotals,
    Coupon,
    FirstPurchase,
    FunderKind,
    Offer,
    OfferStatus,
    SkipReason,
    Usage,
)
from domain.programme import Programme
from domain.purchases import Adjustment, NewPurchase, Purchase, ReasonCode
from domain.refunds import AwardUsage, GiveBack, PointsToReverse, Refund, RefundablePurchase
from domain.rewards import LimitPeriod, Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.security import SecurityEvent
from domain.tiers import Qualification, Tier, TierChange, TierDecision


class MemberRepository(Protocol):
    async def get(self, member_id: int) -> Member | None: ...
    async def get_by_external_ref(self, external_ref: str) -> Member | None: ...
    async def get_by_referral_code(self, referral_code: str) -> Member | None: ...
    async def add(
        self,
        *,
        external_ref: str,
        profile: Profile,
        contact: Contact,
        referral_code: str,
        referred_by: int | None,
        at: datetime,
    ) -> Member: ...
    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None: ...
    async def statuses_by_external_refs(
        self, external_refs: Collection[str]
    ) -> dict[str, tuple[int, MemberStatus]]:
        """(id, status) of each member found, by externalRef (for a batch)."""
        ...

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> int:
        """Mark up to `limit` ACTIVE members not yet dormant whose last activity is at or before
        `inactive_since` as dormant since `now`; returns how many. Rows another transaction holds
        (a member acting right now) are skipped, not waited for."""
        ...

    async def record_activity(self, member_id: int, at: datetime) -> None:
        """The member acted without moving points (a purchase that earned none): it is awake."""
        ...


class MerchantRepository(Protocol):
    async def get(self, merchant_id: int) -> Merchant | None: ...
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
    ) -> Merchant: ...


class PartnerRepository(Protocol):
    async def get(self, partner_id: int) -> PartnerBrand | None: ...
    async def add(self, *, name: str, kind: PartnerKind, at: datetime) -> PartnerBrand: ...


class RewardRepository(Protocol):
    async def get(self, reward_id: int) -> Reward | None: ...
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
    ) -> Reward: ...
    async def take_one(self, reward_id: int, cost_points: int) -> bool:
        """Take one unit of stock if the reward is still active at that cost and in stock."""
        ...

    async def give_back_one(self, reward_id: int) -> None:
        """One unit back to stock (a cancelled redemption, a voided or expired hold); unlimited
        stock stays unlimited."""
        ...

    async def unknown_tiers(self, tier_ids: Collection[int]) -> set[int]:
        """Those of `tier_ids` that name no tier."""
        ...


class ProgrammeRepository(Protocol):
    async def get(self) -> Programme: ...
    async def update(self, settings: Mapping[str, object]) -> None:
        """Change the named lifecycle settings (fields of Programme; not the name or earn rates)."""
        ...


class LedgerRepository(Protocol):
    async def post(
        self, entry: JournalEntry, at: datetime, lots: NewLot | Sequence[NewLot] | None = None
    ) -> int:
        """Append the entry and apply it to the stored member balances in the same transaction;
        the points the entry adds to members' available accounts go into the new `lots`. A member
        who owes points repays its debt first from whatever the entry credits it
        (`domain.ledger.with_debt_repaid`: the entry as booked has a debt line, the lots shrink).

        Raises InsufficientPoints, changing nothing, when a member account would go below zero.
        Returns the entry id."""
        ...

    async def balance(self, member_id: int) -> Balance | None: ...

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        """Lock the members' balance rows, in id order, and return them (for a batch). With
        `skip_locked` (for jobs), rows another transaction holds are left out rather than waited
        for: two job processes then share the work instead of queueing on each other."""
        ...

    async def post_many(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]], at: datetime
    ) -> list[int]:
        """`post` for a batch, in one pass: each member's balance row takes the sum of its deltas.
        Raises like `post`, changing nothing, when any member's balance would leave its limits.
        Returns the entry ids in order."""
        ...


class LotRepository(Protocol):
    async def expired(self, member_id: int, now: datetime) -> list[PointsLot]:
        """Lots past their date with points left; call only while the member's balance row is locked."""
        ...

    async def members_with_expired(self, now: datetime, after: int, limit: int) -> list[int]: ...
    async def spendable(self, member_id: int) -> list[PointsLot]:
        """Lots with points left; call only while the member's balance row is locked."""
        ...

    async def consume(
        self, entry_id: int, member_id: int, draws: Sequence[LotDraw], at: datetime
    ) -> None: ...

    async def add_expiration(self, member_id: int, points: int, at: datetime) -> int:
        """Record one expiry run's points for a member (the origin of its EXPIRE entry); its id."""
        ...

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        """What the entries of this kind for this origin drew from lots, with the lots' expiry."""
        ...


class PurchaseRepository(Protocol):
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
    ) -> Purchase: ...
    async def get(self, purchase_id: int) -> Purchase | None: ...
    async def due_for_maturity(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]: ...
    async def mature(self, purchase_id: int) -> int:
        """Take the purchase's pending points, once; call with the member's balance row locked."""
        ...

    async def firsts(self, member_id: int, merchant: Merchant) -> frozenset[FirstPurchase]:
        """Which kinds of first purchase a new purchase by the member at this merchant would be."""
        ...

    async def add_many(self, purchases: Sequence[NewPurchase], at: datetime) -> list[int]:
        """Write the purchases; returns their ids in the same order."""
        ...


class RedemptionRepository(Protocol):
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
    ) -> Redemption: ...
    async def get(self, redemption_id: int) -> Redemption | None: ...
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
        """Move the redemption on from `from_status`, only if it is still there (a conditional
        UPDATE: of racing changes exactly one wins). Call with the member's balance row locked,
        then this locks the redemption row: the one lock order. False, changing nothing, when it
        had already moved on."""
        ...

    async def count_towards_limit(self, member_id: int, reward_id: int, since: datetime | None) -> int:
        """The member's redemptions of the reward since `since` (None: ever) that still count:
        all but cancelled, voided and expired ones. Call with the member's balance row locked."""
        ...

    async def holds_due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        """(redemption id, member id) of AUTHORIZED holds whose time has passed, by id after `after`."""
        ...

    async def paid_for(self, purchase_id: int) -> list[Redemption]:
        """The captured POS redemptions that paid for the purchase, by id."""
        ...

    async def add_returned(self, redemption_id: int, points: int, returned_before: int) -> bool:
        """Raise points_returned by `points` if it is still `returned_before` (and stays within what
        was captured); False, changing nothing, otherwise."""
        ...


class RedemptionCodeRepository(Protocol):
    async def add(self, member_id: int, code_hash: str, expires_at: datetime, at: datetime) -> bool:
        """Store a new code's hash; False (storing nothing) if that hash is already taken."""
        ...

    async def use(self, code_hash: str, now: datetime) -> int | None:
        """Mark the code used if it is unused and unexpired, atomically (a conditional UPDATE, so
        of two racing uses one wins); the member it belongs to, or None."""
        ...


class AdjustmentRepository(Protocol):
    async def add(
        self,
        *,
        member_id: int,
        points: int,
        reason_code: ReasonCode,
        note: str | None,
        actor: str,
        at: datetime,
    ) -> Adjustment: ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    response: dict[str, object]


class IdempotencyStore(Protocol):
    async def record(
        self, scope: str, key: str, request_hash: str, response: dict[str, object], at: datetime
    ) -> StoredResponse | None:
        """Store this answer under (scope, key) in the current transaction, or return the answer
        stored first. Must be atomic (a unique constraint, not check-then-insert): a concurrent
        record of the same key waits for the first transaction, and gets its answer once it commits."""
        ...

    async def stored(self, scope: str, key: str) -> StoredResponse | None: ...

    async def claim_many(
        self, scope: str, claims: Sequence[tuple[str, str, dict[str, object]]], at: datetime
    ) -> set[str]:
        """Claim (key, request hash, response) rows at once; returns the keys that were new."""
        ...

    async def hashes(self, scope: str, keys: Collection[str]) -> dict[str, str]: ...
    async def release_many(self, scope: str, keys: Collection[str]) -> None: ...


class OfferRepository(Protocol):
    async def add(self, offer: Offer, at: datetime) -> Offer:
        """Store a new offer; its id and version (1) are assigned here."""
        ...

    async def update(self, offer: Offer, at: datetime) -> Offer:
        """Store `offer` as the next version of the offer with its id."""
        ...

    async def usage_of(self, offer_id: int) -> Usage: ...
    async def get(self, offer_id: int) -> Offer | None: ...
    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None: ...
    async def live(self) -> list[Offer]: ...
    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        """The live offers that could apply at this merchant: a superset of the eligible ones."""
        ...

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]: ...
    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]: ...
    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        """A sign-up or referral bonus (the origin of its journal entry); returns its id."""
        ...

    async def add_coupons(
        self, offer_id: int, codes: Sequence[str], max_uses: int, at: datetime
    ) -> list[Coupon]: ...
    async def coupon(self, code: str) -> Coupon | None: ...
    async def claim_coupon(self, code: str, member_id: int, at: datetime) -> Coupon | None: ...
    async def use_coupon(self, coupon_id: int, member_id: int) -> bool:
        """Count one use atomically; False when none is left or the coupon is another member's."""
        ...

    async def wallet(self, member_id: int) -> list[Coupon]: ...
    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        """`cap_periods`: by offer id, the member cap period each capped award was claimed in."""
        ...

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | None:
        """Count one award against the offer's budget and caps, atomically in this transaction;
        returns the limit that refuses it, having changed nothing, or None."""
        ...


class RefundRepository(Protocol):
    async def purchase(self, purchase_id: int) -> RefundablePurchase | None: ...
    async def lock_offer_counters(self, purchase: RefundablePurchase) -> None:
        """Lock the counters a refund of the purchase may give back to (the member's cap rows and
        the offers, by offer id, then the coupon), in the order postPurchase claims them."""
        ...

    async def take(self, purchase: RefundablePurchase, amount_minor: int, points: PointsToReverse) -> bool:
        """Count the refund on the purchase row, as a conditional update: only when the refunded total
        stays within the purchase and the row is still as read; False, changing nothing, otherwise."""
        ...

    async def add(
        self,
        *,
        purchase: RefundablePurchase,
        amount_minor: int,
        reference: str | None,
        at: datetime,
    ) -> int:
        """The refund row (the origin of its journal entries), its points figures still zero."""
        ...

    async def record_points(
        self, refund_id: int, *, points_reversed: int, debt_created: int, points_returned: int
    ) -> Refund: ...
    async def own_lots(self, purchase_id: int, member_id: int) -> list[PointsLot]:
        """Lots with points left that the purchase created (its EARN or MATURE entry); call while
        the member's balance row is locked."""
        ...

    async def earn_funding(self, purchase_id: int) -> list[tuple[Account, int]]:
        """Who funded the purchase's points and how many each (its EARN entry's other side)."""
        ...

    async def awards(self, purchase_id: int) -> list[AwardUsage]:
        """What offers gave the purchase, by offer id."""
        ...

    async def give_back(self, member_id: int, back: GiveBack) -> None:
        """Return budget (and the use, the member's cap use) to the offer; record it on the award."""
        ...

    async def return_coupon_use(self, coupon_id: int) -> None: ...


class TierRepository(Protocol):
    async def ladder(self) -> Sequence[Tier]:
        """Every tier, lowest rank first (cached with the catalogue: no query while unchanged)."""
        ...

    async def add(self, tier: Tier, at: datetime) -> Tier:
        """Store a new tier (its id is assigned here); raises AlreadyExists on a taken code or rank."""
        ...

    async def update(self, tier: Tier, at: datetime) -> Tier: ...

    async def qualification(self, member_id: int, since: datetime, currency: str | None) -> Qualification:
        """The member's qualifying points and spend (in `currency`) over purchases since `since`."""
        ...

    async def apply(self, member: Member, decision: TierDecision, q: Qualification, at: datetime) -> bool:
        """Apply the decision and write its history line, only if the member still holds the tier and
        grace it was read with (`member`); False, changing nothing, when another change came first."""
        ...

    async def members_to_evaluate(
        self, since: datetime, after: int, limit: int, entry_tier_id: int | None
    ) -> list[int]:
        """Ids above `after`, in order, of members holding a tier other than the entry tier, or in
        grace, or with purchases since `since`."""
        ...

    async def member_tier_ids(self, member_ids: Collection[int]) -> dict[int, int | None]: ...


class TransferRepository(Protocol):
    async def add(self, member_id: int, to_member_id: int, points: int, at: datetime) -> int: ...
    async def given_since(self, member_id: int, since: datetime) -> int: ...


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


class SecurityEventLog(Protocol):
    async def record(self, event: SecurityEvent) -> None: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories that work in it. The repositories are read-only here, so
    an implementation may hold narrower types (its own SQL repositories, a test's fakes)."""

    @property
    def members(self) -> MemberRepository: ...
    @property
    def merchants(self) -> MerchantRepository: ...
    @property
    def partners(self) -> PartnerRepository: ...
    @property
    def rewards(self) -> RewardRepository: ...
    @property
    def programme(self) -> ProgrammeRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def lots(self) -> LotRepository: ...
    @property
    def purchases(self) -> PurchaseRepository: ...
    @property
    def redemptions(self) -> RedemptionRepository: ...
    @property
    def redemption_codes(self) -> RedemptionCodeRepository: ...
    @property
    def adjustments(self) -> AdjustmentRepository: ...
    @property
    def transfers(self) -> TransferRepository: ...
    @property
    def refunds(self) -> RefundRepository: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def offers(self) -> OfferRepository: ...
    @property
    def tiers(self) -> TierRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def security_events(self) -> SecurityEventLog: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


@dataclass(frozen=True, slots=True)
class MemberFilter:
    status: MemberStatus | None = None
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ExpiringPoints:
    member_id: int
    points: int
    expires_at: datetime


class ReadModel(Protocol):
    """Batch and page reads for the API. Batch readers return a list aligned with `ids`."""

    async def members(self, ids: Sequence[int]) -> list[Member | None]: ...
    async def members_with_balances(self, ids: Sequence[int]) -> list[tuple[Member, Balance] | None]: ...
    async def balances(self, member_ids: Sequence[int]) -> list[Balance | None]: ...
    async def merchants(self, ids: Sequence[int]) -> list[Merchant | None]: ...
    async def partners(self, ids: Sequence[int]) -> list[PartnerBrand | None]: ...
    async def rewards(self, ids: Sequence[int]) -> list[Reward | None]: ...
    async def purchases(self, ids: Sequence[int]) -> list[Purchase | None]: ...
    async def refunds(self, ids: Sequence[int]) -> list[Refund | None]: ...
    async def purchase_refunds(self, purchase_ids: Sequence[int]) -> list[list[Refund]]:
        """Each purchase's refunds, oldest first."""
        ...

    async def redemptions(self, ids: Sequence[int]) -> list[Redemption | None]: ...
    async def adjustments(self, ids: Sequence[int]) -> list[Adjustment | None]: ...
    async def transfers(self, ids: Sequence[int]) -> list[Transfer | None]: ...
    async def expirations(self, ids: Sequence[int]) -> list[Expiration | None]: ...
    async def member_awards(self, ids: Sequence[int]) -> list[MemberAward | None]: ...
    async def expiring(self, member_ids: Sequence[int], until: datetime) -> list[list[ExpiringPoints]]: ...
    async def offers(self, ids: Sequence[int]) -> list[Offer | None]: ...
    async def offer_usage(self, ids: Sequence[int]) -> list[tuple[int, int, int] | None]:
        """(points used, money used in minor units, uses) per offer."""
        ...

    async def offer_page(
        self,
        after: int | None,
        limit: int,
        funder: tuple[FunderKind, int] | None,
        status: OfferStatus | None = None,
    ) -> list[Offer]: ...
    async def awards(self, purchase_ids: Sequence[int]) -> list[list[Award]]: ...
    async def campaign_totals(self, offer_id: int) -> CampaignTotals: ...

    async def member_page(self, after: int | None, limit: int, where: MemberFilter) -> list[Member]: ...
    async def merchant_page(self, after: int | None, limit: int) -> list[Merchant]: ...
    async def partner_page(self, after: int | None, limit: int) -> list[PartnerBrand]: ...
    async def reward_page(self, after: int | None, limit: int, active_only: bool) -> list[Reward]: ...
    async def ledger_page(self, member_id: int, before: int | None, limit: int) -> list[MemberPosting]: ...
    async def security_event_page(self, before: int | None, limit: int) -> list[SecurityEvent]:
        """Newest first."""
        ...

    async def redemption_page(self, member_id: int, before: int | None, limit: int) -> list[Redemption]: ...
    async def merchant_knows_member(self, merchant_id: int, member_id: int) -> bool: ...

    async def programme(self) -> Programme: ...
    async def tiers(self) -> list[Tier]:
        """The tier ladder, lowest rank first."""
        ...

    async def qualifications(
        self, member_ids: Sequence[int], since: datetime, currency: str | None
    ) -> list[Qualification]: ...
    async def tier_change_page(self, member_id: int, before: int | None, limit: int) -> list[TierChange]: ...
