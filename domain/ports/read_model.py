"""Batch and page reads for the API; each call is independent of any unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.audit import AuditEntry, AuditFilter
from domain.ledger import MemberPosting
from domain.member_links import MerchantLink
from domain.members import Balance, Member, MemberStatus
from domain.merchants import Merchant, PartnerBrand
from domain.movements import Expiration, MemberAward, Transfer
from domain.offers import (
    Award,
    CampaignTotals,
    FunderKind,
    Offer,
    OfferStatus,
)
from domain.profiles import DayActivity, LifecycleRules
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase
from domain.refunds import Refund
from domain.rewards import Redemption, Reward
from domain.security import SecurityEvent
from domain.segments import Rule, RuleContext, Segment, SegmentStatus
from domain.tiers import Qualification, Tier, TierChange
from domain.vouchers import Voucher


@dataclass(frozen=True, slots=True)
class MemberFilter:
    status: MemberStatus | None = None
    external_ref: str | None = None
    phone: str | None = None  # exact, after normalisation (spaces and dashes do not count)
    email: str | None = None  # exact, ignoring case
    referral_code: str | None = None
    tier_id: int | None = None  # the tier it holds (members on the entry tier hold none)
    # The display name is the member's phone, else its email (the programme holds no names), stored
    # only encrypted: matched exactly, by keyed hash, as `phone` or `email` are.
    name: str | None = None
    enrolled_from: datetime | None = None  # inclusive
    enrolled_to: datetime | None = None  # exclusive


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
    async def vouchers(self, redemption_ids: Sequence[int]) -> list[Voucher | None]:
        """The vouchers of these reward redemptions (None: a redemption without one)."""
        ...

    async def adjustments(self, ids: Sequence[int]) -> list[Adjustment | None]: ...
    async def transfers(self, ids: Sequence[int]) -> list[Transfer | None]: ...
    async def expirations(self, ids: Sequence[int]) -> list[Expiration | None]: ...
    async def member_awards(self, ids: Sequence[int]) -> list[MemberAward | None]: ...
    async def expiring(self, member_ids: Sequence[int], until: datetime) -> list[list[ExpiringPoints]]: ...
    async def activity(self, member_ids: Sequence[int], since: date) -> list[list[DayActivity]]:
        """Each member's profile counters from `since` on, with each merchant's category."""
        ...

    async def lifecycle_rules(self) -> LifecycleRules: ...
    async def segments(self, ids: Sequence[int]) -> list[Segment | None]: ...
    async def segment_page(
        self, after: int | None, limit: int, status: SegmentStatus | None
    ) -> list[Segment]: ...
    async def segment_member_page(self, segment_id: int, after: int | None, limit: int) -> list[Member]: ...
    async def segment_preview(self, rule: Rule, ctx: RuleContext, sample: int) -> tuple[int, list[Member]]:
        """How many members the rule matches now (over the last refresh's figures), and the first few."""
        ...

    async def segment_sizes(self, segment_id: int, since: date) -> list[tuple[date, int]]: ...
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

    async def audit_page(self, before: int | None, limit: int, where: AuditFilter) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def redemption_page(self, member_id: int, before: int | None, limit: int) -> list[Redemption]: ...
    async def merchant_knows_member(self, merchant_id: int, member_id: int) -> bool:
        """Whether the member has a standing link to the merchant."""
        ...

    async def member_links(self, member_id: int) -> list[MerchantLink]:
        """The member's standing links, newest first."""
        ...

    async def merchant_link_page(self, merchant_id: int, after: int | None, limit: int) -> list[MerchantLink]:
        """The merchant's standing links, by member id after `after`."""
        ...

    async def member_refs(self, merchant_id: int, member_ids: Sequence[int]) -> list[str | None]:
        """Each member's reference from its standing link to the merchant, or None."""
        ...

    async def programme(self) -> Programme: ...
    async def tiers(self) -> list[Tier]:
        """The tier ladder, lowest rank first."""
        ...

    async def qualifications(
        self, member_ids: Sequence[int], since: datetime, currency: str | None
    ) -> list[Qualification]: ...
    async def tier_change_page(self, member_id: int, before: int | None, limit: int) -> list[TierChange]: ...
