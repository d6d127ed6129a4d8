"""A member's standing link to a merchant, and the merchant-scoped reference it gives the merchant.

A merchant acts for a member only when the member presented itself: with the one-time code from its
wallet at the till (`domain.redemption_codes`), or through a link the member made to that merchant
(as when linking an account in a partner's app). A link hands the merchant a reference of its own
for the member, random and unguessable, never the member's internal id: one merchant's references
mean nothing to another, and unlinking retires the reference for good (linking again makes a new one).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.redemption_codes import ALPHABET

PREFIX = "MR"
RANDOM_LENGTH = 20  # 31 ** 20: about 99 bits from `secrets`
MAX_INPUT = 64  # what a presented reference may be before it is not even looked up


@dataclass(frozen=True, slots=True)
class MerchantLink:
    merchant_id: int
    member_id: int
    member_ref: str
    linked_at: datetime


def new_member_ref() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def normalize(presented: str) -> str:
    """As typed or read from a file: case, spaces and dashes do not matter."""
    return "".join(ch for ch in presented.upper() if ch not in " -\t")


def well_formed(presented: str) -> bool:
    ref = normalize(presented)
    return (
        len(ref) == len(PREFIX) + RANDOM_LENGTH
        and ref.startswith(PREFIX)
        and all(ch in ALPHABET for ch in ref[len(PREFIX) :])
    )
