"""Vouchers: what a member shows to be handed a redeemed reward.

Redeeming a catalogue reward issues one voucher with it. Its code is long and unguessable (16
characters from `secrets` over a 31-letter alphabet: about 79 bits) and only its SHA-256 hash is
stored, so the code is shown once, in redeemReward's answer, and a copy of the database holds no
usable code. A merchant presents the code with `redeemVoucher`: the voucher is USED and the
redemption FULFILLED, once. Rewards name no merchant, so any merchant of the programme may redeem any
voucher. A voucher not used within the programme's `voucher_valid_days` EXPIRES: the voucher-expiry
job cancels its redemption, which gives the points and the unit of stock back as a cancellation
does. Cancelling or fulfilling the redemption otherwise makes its voucher VOID.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# As the one-time codes (domain.redemption_codes): no 0/O, 1/I/L, for a cashier typing it.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 16
MAX_INPUT = 64  # what a presented code may be before it is not even looked up


class VoucherStatus(StrEnum):
    ACTIVE = "ACTIVE"  # may be redeemed until it expires
    USED = "USED"  # a merchant redeemed it: the reward was handed over
    EXPIRED = "EXPIRED"  # not used in time: the points came back
    VOID = "VOID"  # its redemption was cancelled, or fulfilled without it


@dataclass(frozen=True, slots=True)
class Voucher:
    id: int
    redemption_id: int
    member_id: int
    status: VoucherStatus
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None
    merchant_id: int | None = None  # the merchant that redeemed it
    code: str | None = None  # as the member's wallet shows it (None where it cannot be unsealed)

    def shown_status(self, now: datetime) -> VoucherStatus:
        """EXPIRED from its date on, even before the job has given the points back."""
        if self.status is VoucherStatus.ACTIVE and self.expires_at <= now:
            return VoucherStatus.EXPIRED
        return self.status


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(presented: str) -> str:
    """The code as typed or scanned: case, spaces and dashes do not matter."""
    return "".join(ch for ch in presented.upper() if ch not in " -\t")


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def well_formed(presented: str) -> bool:
    code = normalize(presented)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


@dataclass(frozen=True, slots=True)
class VoucherResult:
    """redeemVoucher's answer, stored under its idempotency key: times as ISO 8601 text."""

    voucher_id: int
    redemption_id: int
    member_id: int
    reward_id: int | None
    status: str
    expires_at: str
    created_at: str
    used_at: str | None
    merchant_id: int | None

    @classmethod
    def of(cls, voucher: Voucher, reward_id: int | None) -> VoucherResult:
        return cls(
            voucher.id,
            voucher.redemption_id,
            voucher.member_id,
            reward_id,
            voucher.status.value,
            voucher.expires_at.isoformat(),
            voucher.created_at.isoformat(),
            None if voucher.used_at is None else voucher.used_at.isoformat(),
            voucher.merchant_id,
        )

    def voucher(self) -> Voucher:
        return Voucher(
            id=self.voucher_id,
            redemption_id=self.redemption_id,
            member_id=self.member_id,
            status=VoucherStatus(self.status),
            expires_at=datetime.fromisoformat(self.expires_at),
            created_at=datetime.fromisoformat(self.created_at),
            used_at=None if self.used_at is None else datetime.fromisoformat(self.used_at),
            merchant_id=self.merchant_id,
        )
