"""A redeemed reward's voucher: what the member shows, and a merchant redeems, to hand the reward over."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.types.enums import describe_values
from domain import vouchers as dv

strawberry.enum(dv.VoucherStatus, name="VoucherStatus", description="Where a voucher stands.")
describe_values(
    dv.VoucherStatus,
    {
        dv.VoucherStatus.ACTIVE: "It may be redeemed at a merchant until expiresAt.",
        dv.VoucherStatus.USED: "A merchant redeemed it: the reward was handed over.",
        dv.VoucherStatus.EXPIRED: "Not used in time: the points and the unit of stock go back to the member "
        "(the voucher-expiry job cancels the redemption).",
        dv.VoucherStatus.VOID: "Its redemption was cancelled, or fulfilled without it.",
    },
)
VoucherStatus = dv.VoucherStatus


@strawberry.type(
    description="What a redeemed reward's member shows, and a MERCHANT redeems with redeemVoucher, to "
    "be handed the reward. Read by the MEMBER it belongs to and ADMIN on its redemption, and by the "
    "MERCHANT that redeems it in redeemVoucher's answer."
)
class Voucher:
    code: str | None = strawberry.field(
        description="The code the member shows (as text or a QR code): to the MEMBER it belongs to only; "
        "null for everyone else, and once it is no longer ACTIVE."
    )
    expires_at: datetime = strawberry.field(description="Until when it may be redeemed.")
    used_at: datetime | None = strawberry.field(description="When a merchant redeemed it.")
    created_at: datetime = strawberry.field(description="When it was issued, with the redemption.")
    member_id: strawberry.Private[int]
    source: strawberry.Private[dv.Voucher]

    @strawberry.field(description="Where it stands; EXPIRED from expiresAt on.")
    def status(self, info: Info) -> VoucherStatus:
        return self.source.shown_status(info.context.clock.now())

    @classmethod
    def from_domain(cls, v: dv.Voucher, code: str | None = None) -> Voucher:
        shown = code or v.code
        return cls(
            code=shown if v.status is dv.VoucherStatus.ACTIVE else None,
            expires_at=v.expires_at,
            used_at=v.used_at,
            created_at=v.created_at,
            member_id=v.member_id,
            source=v,
        )
