"""Security events, for admins."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.types.enums import describe_values
from api.types.ids import encode_id
from domain import security as ds

strawberry.enum(
    ds.SecurityEventKind,
    name="SecurityEventKind",
    description="GUESSING_LOCKOUT: a caller gave too many wrong codes of one kind and was refused them "
    "for a cool-down.",
)
describe_values(
    ds.SecurityEventKind,
    {
        ds.SecurityEventKind.GUESSING_LOCKOUT: "Too many wrong codes of one kind: the caller was refused "
        "them for a cool-down."
    },
)
SecurityEventKind = ds.SecurityEventKind
strawberry.enum(ds.Secret, name="GuessedSecret", description="A kind of code a caller presents.")
describe_values(
    ds.Secret,
    {
        ds.Secret.REDEMPTION_CODE: "A member's one-time redemption code, presented by a merchant.",
        ds.Secret.MEMBER_REFERENCE: "A merchant-scoped member reference, or a member id a merchant tried.",
        ds.Secret.COUPON_CODE: "A coupon's code.",
        ds.Secret.RED_PACKET_CODE: "A red packet's code.",
    },
)
GuessedSecret = ds.Secret


@strawberry.type(description="What the API refused a caller for the programme's protection.")
class SecurityEvent:
    id: relay.GlobalID = strawberry.field(description="The event's id.")
    kind: SecurityEventKind = strawberry.field(description="What happened.")
    secret: GuessedSecret | None = strawberry.field(description="The kind of code guessed.")
    principal: str = strawberry.field(description="The caller's role and token subject, as role:subject.")
    client_address: str | None = strawberry.field(description="The caller's network address, when known.")
    failures: int = strawberry.field(description="Wrong codes within the window that started the lockout.")
    cooldown_seconds: int = strawberry.field(description="How long the caller is refused.")
    request_id: str = strawberry.field(description="The request that started it, as in the logs.")
    occurred_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_domain(cls, e: ds.SecurityEvent) -> SecurityEvent:
        assert e.id is not None
        return cls(
            id=encode_id("SecurityEvent", e.id),
            kind=e.kind,
            secret=e.secret,
            principal=e.principal,
            client_address=e.client_address,
            failures=e.failures,
            cooldown_seconds=e.cooldown_seconds,
            request_id=e.request_id,
            occurred_at=e.at,
        )
