"""Row <-> domain conversion: the only module that knows both shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from domain.audit import AuditEntry, AuditEvent
from domain.ledger import AccountKind, EntryKind, MemberPosting, OriginType
from domain.lots import PointsLot
from domain.member_links import MerchantLink
from domain.members import Balance, Contact, IncomeBand, Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.money import Money
from domain.movements import Expiration, MemberAward, Transfer
from domain.purchases import Adjustment, Purchase, ReasonCode
from domain.refunds import Refund, RefundablePurchase
from domain.rewards import LimitPeriod, Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.security import Secret, SecurityEvent, SecurityEventKind
from domain.tiers import Qualification, Tier, TierChange, TierChangeReason
from persistence.personal_data import PersonalDataVault


def member(row: Row[Any], vault: PersonalDataVault) -> Member:
    return Member(
        id=row.id,
        external_ref=row.external_ref,
        status=MemberStatus(row.status),
        status_reason=row.status_reason,
        referral_code=row.referral_code,
        referred_by=row.referred_by,
        enrolled_at=row.enrolled_at,
        profile=Profile(
            birth_year=row.birth_year,
            region=row.region,
            income_band=IncomeBand(row.income_band) if row.income_band else None,
            tags=tuple(row.tags or ()),
            time_zone=row.time_zone,
        ),
        contact=Contact(phone=vault.open(row.phone_encrypted), email=vault.open(row.email_encrypted)),
        tier_id=row.tier_id,
        tier_since=row.tier_since,
        tier_grace_until=row.tier_grace_until,
        # Selected beside the member where the read joins its balance row.
        dormant_since=getattr(row, "dormant_since", None),
        last_activity_at=getattr(row, "last_activity_at", None),
        marketing_consent=bool(row.marketing_consent),
        marketing_consent_at=row.marketing_consent_at,
        closed_at=row.closed_at,
        points_forfeit_at=row.points_forfeit_at,
    )


def member_values(m: Member, vault: PersonalDataVault) -> dict[str, Any]:
    return {
        "external_ref": m.external_ref,
        "status": m.status.value,
        "status_reason": m.status_reason,
        "referral_code": m.referral_code,
        "referred_by": m.referred_by,
        "birth_year": m.profile.birth_year,
        "region": m.profile.region,
        "income_band": m.profile.income_band.value if m.profile.income_band else None,
        "tags": list(m.profile.tags),
        "time_zone": m.profile.time_zone,
        **contact_values(m.contact, vault),
        "enrolled_at": m.enrolled_at,
    }


def member_link(row: Row[Any]) -> MerchantLink:
    return MerchantLink(row.merchant_id, row.member_id, row.member_ref, row.linked_at)


def contact_values(contact: Contact, vault: PersonalDataVault) -> dict[str, Any]:
    """The stored form of a contact: encrypted, and hashed for lookup."""
    return {
        "phone_encrypted": vault.seal(contact.phone),
        "email_encrypted": vault.seal(contact.email),
        "phone_lookup": vault.phone_lookup(contact.phone),
        "email_lookup": vault.email_lookup(contact.email),
    }


def balance(row: Row[Any]) -> Balance:
    return Balance(
        member_id=row.member_id,
        available=row.available,
        pending=row.pending,
        held=row.held,
        lifetime_earned=row.lifetime_earned,
        lifetime_redeemed=row.lifetime_redeemed,
        debt=row.debt,
        under_review=row.under_review,
    )


def balance_from_prefixed(row: Row[Any]) -> Balance:
    """A balance selected beside another table's columns, labelled `balance_<column>`."""
    return Balance(
        member_id=row.balance_member_id,
        available=row.balance_available,
        pending=row.balance_pending,
        held=row.balance_held,
        lifetime_earned=row.balance_lifetime_earned,
        lifetime_redeemed=row.balance_lifetime_redeemed,
        debt=row.balance_debt,
        under_review=row.balance_under_review,
    )


def merchant(row: Row[Any]) -> Merchant:
    return Merchant(
        id=row.id,
        name=row.name,
        category=MerchantCategory(row.category),
        channel=MerchantChannel(row.channel),
        partner_id=row.partner_id,
        earn_rate_override=Decimal(row.earn_rate_override) if row.earn_rate_override is not None else None,
        created_at=row.created_at,
        pending_days=row.pending_days,
    )


def partner(row: Row[Any]) -> PartnerBrand:
    return PartnerBrand(id=row.id, name=row.name, kind=PartnerKind(row.kind), created_at=row.created_at)


def reward(row: Row[Any]) -> Reward:
    return Reward(
        id=row.id,
        name=row.name,
        cost_points=row.cost_points,
        stock=row.stock,
        active=row.active,
        created_at=row.created_at,
        per_member_limit=row.per_member_limit,
        limit_period=LimitPeriod(row.limit_period) if row.limit_period else None,
        tier_ids=frozenset(row.tier_ids) if row.tier_ids is not None else None,
    )


def redemption(row: Row[Any]) -> Redemption:
    return Redemption(
        id=row.id,
        member_id=row.member_id,
        reward_id=row.reward_id,
        points=row.points,
        status=RedemptionStatus(row.status),
        created_at=row.created_at,
        kind=RedemptionKind(row.kind),
        merchant_id=row.merchant_id,
        captured_points=row.captured_points,
        hold_expires_at=row.hold_expires_at,
        purchase_id=row.purchase_id,
        points_returned=row.points_returned,
        finalized_at=row.finalized_at,
    )


def purchase(row: Row[Any]) -> Purchase:
    return Purchase(
        id=row.id,
        member_id=row.member_id,
        merchant_id=row.merchant_id,
        amount=Money(row.amount_minor, row.currency),
        channel=Channel(row.channel),
        occurred_at=row.occurred_at,
        reference=row.reference,
        points_earned=row.points_earned,
        points_pending=row.points_pending,
        created_at=row.created_at,
        refunded_minor=row.refunded_minor,
        points_refunded=row.points_refunded,
    )


def refundable_purchase(row: Row[Any]) -> RefundablePurchase:
    return RefundablePurchase(
        id=row.id,
        member_id=row.member_id,
        merchant_id=row.merchant_id,
        amount=Money(row.amount_minor, row.currency),
        points_earned=row.points_earned,
        points_pending=row.points_pending,
        refunded_minor=row.refunded_minor,
        points_refunded=row.points_refunded,
        coupon_id=row.coupon_id,
    )


def refund(row: Row[Any]) -> Refund:
    return Refund(
        id=row.id,
        member_id=row.member_id,
        purchase_id=row.purchase_id,
        merchant_id=row.merchant_id,
        amount=Money(row.amount_minor, row.currency),
        points_reversed=row.points_reversed,
        debt_created=row.debt_created,
        points_returned=row.points_returned,
        reference=row.reference,
        created_at=row.created_at,
    )


def adjustment(row: Row[Any]) -> Adjustment:
    return Adjustment(
        id=row.id,
        member_id=row.member_id,
        points=row.points,
        reason_code=ReasonCode(row.reason_code),
        note=row.note,
        actor=row.actor,
        created_at=row.created_at,
    )


def transfer(row: Row[Any]) -> Transfer:
    return Transfer(row.id, row.member_id, row.to_member_id, row.points, row.created_at)


def expiration(row: Row[Any]) -> Expiration:
    return Expiration(row.id, row.member_id, row.points, row.created_at)


def member_award(row: Row[Any]) -> MemberAward:
    return MemberAward(
        row.id, row.member_id, row.offer_id, row.reason, row.points, row.purchase_id, row.created_at
    )


def lot(row: Row[Any]) -> PointsLot:
    return PointsLot(
        id=row.id,
        member_id=row.member_id,
        points=row.points,
        remaining=row.remaining,
        earned_at=row.earned_at,
        expires_at=row.expires_at,
    )


def member_posting(row: Row[Any]) -> MemberPosting:
    return MemberPosting(
        id=row.id,
        entry_id=row.entry_id,
        member_id=row.member_id,
        account=AccountKind(row.account_kind),
        amount=row.amount,
        kind=EntryKind(row.kind),
        origin_type=OriginType(row.origin_type),
        origin_id=row.origin_id,
        description=row.description,
        created_at=row.created_at,
    )


def tier(row: Row[Any]) -> Tier:
    return Tier(
        id=row.id,
        code=row.code,
        name=row.name,
        rank=row.rank,
        min_points=row.min_points,
        min_spend=Money(row.min_spend_minor, row.spend_currency) if row.min_spend_minor is not None else None,
        earn_multiplier=Decimal(row.earn_multiplier),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def tier_values(t: Tier) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.name,
        "rank": t.rank,
        "min_points": t.min_points,
        "min_spend_minor": None if t.min_spend is None else t.min_spend.amount_minor,
        "spend_currency": None if t.min_spend is None else t.min_spend.currency,
        "earn_multiplier": str(t.earn_multiplier),
    }


def tier_change(row: Row[Any]) -> TierChange:
    return TierChange(
        id=row.id,
        member_id=row.member_id,
        from_tier_id=row.from_tier_id,
        to_tier_id=row.to_tier_id,
        reason=TierChangeReason(row.reason),
        qualification=Qualification(row.qualifying_points, row.qualifying_spend_minor),
        created_at=row.created_at,
    )


def audit_entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        event=AuditEvent(
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            request_id=row.request_id,
            at=row.created_at,
            member_id=row.member_id,
        ),
        member_id=row.member_id,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def security_event(row: Row[Any]) -> SecurityEvent:
    return SecurityEvent(
        id=row.id,
        kind=SecurityEventKind(row.kind),
        secret=Secret(row.secret) if row.secret else None,
        principal=row.principal,
        client_address=row.client_address,
        failures=row.failures,
        cooldown_seconds=row.cooldown_seconds,
        request_id=row.request_id,
        at=row.created_at,
    )
