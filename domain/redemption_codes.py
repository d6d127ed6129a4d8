"""One-time redemption codes: the proof that a member is present at a merchant's POS.

The member's wallet asks for a code and shows it (as text or a QR code); the merchant presents it
with `authorizeRedemption`. A code is short-lived, single-use and unguessable; only its SHA-256
hash is stored, so a copy of the database holds no usable code.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

# No 0/O, 1/I/L: a cashier may have to type what the customer's screen shows.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10  # 31 ** 10 ≈ 8.2e14 codes: about 49.5 bits from `secrets`
TTL = timedelta(minutes=5)
MAX_INPUT = 40  # what a presented code may be before it is not even looked up


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
