"""Who is acting: the authenticated caller as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    MERCHANT = "merchant"
    PARTNER = "partner"
    PROCESSOR = "processor"  # the bank's card or payment processing: posts purchases at named merchants
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    subject: str
    member_id: int | None = None
    merchant_id: int | None = None
    partner_id: int | None = None
    processor_id: int | None = None
    request_id: str = ""

    @property
    def idempotency_scope(self) -> str:
        """Keys are scoped to the caller, so two merchants may reuse a key without colliding."""
        owner = self.member_id or self.merchant_id or self.partner_id or self.processor_id or self.subject
        return f"{self.role.value}:{owner}"
