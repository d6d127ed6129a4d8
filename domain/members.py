"""Members, their status and profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MemberStatus(StrEnum):
    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    CLOSED = "CLOSED"
    ERASED = "ERASED"  # personal data pseudonymised at the member's or an admin's request: final
    DORMANT = "DORMANT"  # shown, never stored: see Member.shown_status


class IncomeBand(StrEnum):
    LOW = "LOW"
    MIDDLE = "MIDDLE"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"


@dataclass(frozen=True, slots=True)
class Profile:
    birth_year: int | None = None
    region: str | None = None
    income_band: IncomeBand | None = None
    tags: tuple[str, ...] = ()
    time_zone: str | None = None  # IANA name (Asia/Shanghai); None: UTC. Quiet hours are kept in it


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    external_ref: str
    status: MemberStatus
    referral_code: str
    enrolled_at: datetime
    profile: Profile = field(default_factory=Profile)
    contact: Contact = field(default_factory=Contact)
    status_reason: str | None = None
    referred_by: int | None = None
    tier_id: int | None = None  # None: the programme's entry tier (or no tiers at all)
    tier_since: datetime | None = None
    tier_grace_until: datetime | None = None
    dormant_since: datetime | None = None  # set by the dormancy job; any activity clears it
    last_activity_at: datetime | None = None  # enrolment, or the member's own last points movement
    marketing_consent: bool = False
    marketing_consent_at: datetime | None = None  # when it was last given or withdrawn
    closed_at: datetime | None = None
    points_forfeit_at: datetime | None = None  # a closed member's points wait until then (KEEP policy)

    @property
    def shown_status(self) -> MemberStatus:
        """DORMANT is derived: an ACTIVE member the dormancy job marked, until it acts again."""
        if self.status is MemberStatus.ACTIVE and self.dormant_since is not None:
            return MemberStatus.DORMANT
        return self.status


@dataclass(frozen=True, slots=True)
class Balance:
    """A member's stored balances: one row, changed in the same transaction as the journal entry."""

    member_id: int
    available: int
    pending: int
    held: int
    lifetime_earned: int
    lifetime_redeemed: int
    debt: int = 0  # points owed after refunds took back points already spent
    under_review: int = 0  # earned points a risk rule holds until an admin approves or rejects them


def mask_phone(phone: str | None) -> str | None:
    """The first three and last four characters, as wallets show them: 13812345678 -> 138****5678."""
    if not phone:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def display_name(contact: Contact) -> str | None:
    """The name a till may greet the member by: the programme holds no names, so its phone, else its
    email (None: neither). Shown masked to all but the member itself."""
    return contact.phone or contact.email or None


def mask_display_name(name: str | None) -> str | None:
    return mask_email(name) if name is not None and "@" in name else mask_phone(name)


def masked_contact(contact: Contact) -> Contact:
    return Contact(phone=mask_phone(contact.phone), email=mask_email(contact.email))
