"""Merchants (where points are earned) and the partner brands that co-fund offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class MerchantCategory(StrEnum):
    DINING = "DINING"
    GROCERY = "GROCERY"
    RETAIL = "RETAIL"
    ONLINE_SHOPPING = "ONLINE_SHOPPING"
    TRAVEL = "TRAVEL"
    TRANSPORT = "TRANSPORT"
    ENTERTAINMENT = "ENTERTAINMENT"
    EDUCATION = "EDUCATION"
    HEALTHCARE = "HEALTHCARE"
    UTILITIES = "UTILITIES"
    OTHER = "OTHER"


class MerchantChannel(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    BOTH = "BOTH"


class Channel(StrEnum):
    """Where one purchase happened."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class PartnerKind(StrEnum):
    AIRLINE = "AIRLINE"
    HOTEL = "HOTEL"
    ECOMMERCE = "ECOMMERCE"
    RETAIL = "RETAIL"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class PartnerBrand:
    id: int
    name: str
    kind: PartnerKind
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Merchant:
    id: int
    name: str
    category: MerchantCategory
    channel: MerchantChannel
    partner_id: int | None
    earn_rate_override: Decimal | None
    created_at: datetime
    pending_days: int | None = None  # this merchant's return window, overriding the programme's

    def accepts(self, channel: Channel) -> bool:
        return self.channel is MerchantChannel.BOTH or self.channel.value == channel.value
