"""Security events: what the API refused for the caller's own protection, kept for admins to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Secret(StrEnum):
    """A kind of code a caller could try to guess."""

    REDEMPTION_CODE = "REDEMPTION_CODE"  # a member's one-time code, presented by a merchant
    MEMBER_REFERENCE = "MEMBER_REFERENCE"  # a merchant-scoped member reference, or a member id it tried
    COUPON_CODE = "COUPON_CODE"
    RED_PACKET_CODE = "RED_PACKET_CODE"
    VOUCHER = "VOUCHER"  # a redeemed reward's voucher code, presented by a merchant


class SecurityEventKind(StrEnum):
    GUESSING_LOCKOUT = "GUESSING_LOCKOUT"  # too many wrong codes: refused for a cool-down


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    kind: SecurityEventKind
    secret: Secret | None
    principal: str  # role and token subject ("merchant:pos-7"), never the token itself
    client_address: str | None
    failures: int
    cooldown_seconds: int
    request_id: str
    at: datetime
    id: int | None = None
