"""Facts behind ledger entries that have no richer home: points a member gave another, points that
expired, and bonuses an offer gave outside a purchase of the member's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Transfer:
    id: int
    member_id: int  # who gave
    to_member_id: int
    points: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Expiration:
    id: int
    member_id: int
    points: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberAward:
    id: int
    member_id: int
    offer_id: int
    reason: str  # SIGN_UP or REFERRAL
    points: int
    purchase_id: int | None  # the referred member's purchase a referral bonus came from
    created_at: datetime
