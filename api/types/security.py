"""Security events, for admins."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.types.ids import encode_id
from domain import security as ds

SecurityEventKind = strawberry.enum(
    ds.SecurityEventKind,
    name="SecurityEventKind",
    description="GUESSING_LOCKOUT: a caller gave too many wrong codes of one kind and was refused them "
    "for a cool-down.",
)
GuessedSecret = strawberry.enum(
    ds.Secret, name="GuessedSecret", description="A kind of code a caller presents."
)


@strawberry.type(description="What the API refused a caller for the programme's protection.")
class SecurityEvent:
    id: relay.GlobalID
    kind: SecurityEventKind  # type: ignore[valid-type]
    secret: GuessedSecret | None  # type: ignore[valid-type]
    principal: str = strawberry.field(description="The caller's role and token subject, as role:subject.")
    client_address: str | None
    failures: int = strawberry.field(description="Wrong codes within the window that started the lockout.")
    cooldown_seconds: int
    request_id: str
    occurred_at: datetime

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
