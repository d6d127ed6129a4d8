"""Security events, for admins."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.types.enums import describe_values
from api.types.ids import encode_id
from domain import security as ds
from domain.audit import AuditEntry

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
        ds.Secret.VOUCHER: "A redeemed reward's voucher code.",
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


@strawberry.type(
    description="One row of the audit log (ADMIN): an admin action, an erasure, a personal-data read or "
    "a security event. Rows are never changed or deleted; each carries a hash chained to the one before."
)
class AuditLogEntry:
    id: relay.GlobalID = strawberry.field(description="The row's id; later rows have greater ids (ADMIN).")
    actor: str = strawberry.field(
        description="Who acted: an admin's or member's token subject; for security events the caller "
        "as role:subject, or anonymous:<address> (ADMIN)."
    )
    action: str = strawberry.field(
        description="What was done: a mutation's name (enrollMember, adjustPoints, eraseMember ...), "
        "personal_data.read, or security.* (guessing_lockout, rate_limited, token_refused) (ADMIN)."
    )
    target_type: str = strawberry.field(
        description="The kind of object acted on (Member, Offer ...), or Caller for security events (ADMIN)."
    )
    target_id: int = strawberry.field(description="Its database id; 0 for a Caller (ADMIN).")
    member_id: relay.GlobalID | None = strawberry.field(description="The member concerned, if any (ADMIN).")
    before: JSON | None = strawberry.field(
        description="The object before the action, where there was one; contact data masked (ADMIN)."
    )
    after: JSON | None = strawberry.field(
        description="The object after it, or the event's figures (a refusal's count, since when) (ADMIN)."
    )
    request_id: str = strawberry.field(description="The request that did it, as in the logs (ADMIN).")
    occurred_at: datetime = strawberry.field(description="When it happened (ADMIN).")
    prev_hash: str = strawberry.field(description="The previous row's hash (64 zeros for the first) (ADMIN).")
    hash: str = strawberry.field(
        description="SHA-256 over prevHash and this row's content; scripts/verify-ledger recomputes it "
        "(ADMIN)."
    )

    @classmethod
    def from_domain(cls, e: AuditEntry) -> AuditLogEntry:
        return cls(
            id=encode_id("AuditLogEntry", e.id),
            actor=e.event.actor,
            action=e.event.action,
            target_type=e.event.target_type,
            target_id=e.event.target_id,
            member_id=None if e.member_id is None else encode_id("Member", e.member_id),
            before=None if e.event.before is None else JSON(e.event.before),
            after=None if e.event.after is None else JSON(e.event.after),
            request_id=e.event.request_id,
            occurred_at=e.event.at,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


@strawberry.input(description="Narrows the audit log; omitted fields do not filter (ADMIN).")
class AuditLogFilter:
    actor: str | None = strawberry.field(default=None, description="Only rows by this actor, exactly.")
    action: str | None = strawberry.field(default=None, description="Only rows of this action, exactly.")
    member_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only rows concerning this member."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only rows at or after this time."
    )
    to: datetime | None = strawberry.field(default=None, description="Only rows before this time.")
