"""Bearer token -> Actor, with PyJWT: pinned algorithm, required claims, public keys by `kid`."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import jwt

from api.settings import Settings
from api.signing_keys import JWKS_CACHE_SECONDS, KeysUnavailable, UnknownKey, signing_keys
from api.types.ids import MAX_ID
from domain.actors import Actor, Role

logger = logging.getLogger("loyalty.auth")

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role"]
_ROLE_ID_CLAIM = {
    Role.MEMBER: "member_id",
    Role.MERCHANT: "merchant_id",
    Role.PARTNER: "partner_id",
    Role.PROCESSOR: "processor_id",
}


class InvalidToken(Exception):
    """The token was present but not acceptable; the message is safe to show the caller."""


class TokenVerifier:
    """Verifies tokens, remembering the ones it accepted by their exact text.

    A wallet or POS sends the same token on every request, and checking its signature costs more than
    the rest of a cheap request. Same text means same signature and claims, so the remembered answer
    is the one a fresh check would give; expiry is still checked on every use.
    """

    CACHE_SIZE = 10_000

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = signing_keys(settings)
        self._accepted: OrderedDict[str, tuple[float, Actor]] = OrderedDict()

    def verify(self, token: str, request_id: str = "") -> Actor:
        if (actor := self._remembered(token, request_id)) is not None:
            return actor
        return self._accept(token, request_id, self._key(token))

    async def verify_async(self, token: str, request_id: str = "") -> Actor:
        """As verify; a key lookup that may fetch a JWKS runs in a thread, off the event loop."""
        if (actor := self._remembered(token, request_id)) is not None:
            return actor
        key = await asyncio.to_thread(self._key, token) if self.keys.fetches else self._key(token)
        return self._accept(token, request_id, key)

    def _remembered(self, token: str, request_id: str) -> Actor | None:
        if (known := self._accepted.get(token)) is not None:
            expires_at, actor = known
            if time.time() < expires_at:
                return replace(actor, request_id=request_id)
            self._accepted.pop(token, None)
        return None

    def _accept(self, token: str, request_id: str, key: Any) -> Actor:
        actor, expires_at = self._verify(token, request_id, key)
        if self.keys.fetches:
            # A key withdrawn from the JWKS stops being trusted when the fetched set is refreshed.
            expires_at = min(expires_at, time.time() + JWKS_CACHE_SECONDS)
        self._accepted[token] = (expires_at, actor)
        if len(self._accepted) > self.CACHE_SIZE:
            self._accepted.popitem(last=False)
        return actor

    def _key(self, token: str) -> Any:
        try:
            return self.keys.key_for(token)
        except UnknownKey as exc:
            raise InvalidToken("unknown signing key") from exc
        except KeysUnavailable as exc:
            logger.warning("signing keys unavailable: %s", exc)
            raise InvalidToken("signing keys unavailable") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc

    def _verify(self, token: str, request_id: str, key: Any) -> tuple[Actor, float]:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise InvalidToken("unknown role") from exc
        ids: dict[str, int] = {}
        if id_claim := _ROLE_ID_CLAIM.get(role):
            value = claims.get(id_claim)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
                raise InvalidToken(f"a {role.value} token needs a positive 64-bit integer {id_claim} claim")
            ids[id_claim] = value
        actor = Actor(role=role, subject=str(claims["sub"]), request_id=request_id, **ids)
        return actor, float(claims["exp"]) + self.settings.jwt_leeway_seconds


def issue_token(
    settings: Settings,
    *,
    role: Role,
    subject: str,
    member_id: int | None = None,
    merchant_id: int | None = None,
    partner_id: int | None = None,
    processor_id: int | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """Sign a token with the local secret (HS256 development setups and tests)."""
    if not settings.signs_locally or not settings.jwt_secret:
        raise ValueError("tokens can only be issued locally with a symmetric JWT_SECRET")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    for name, value in (
        ("member_id", member_id),
        ("merchant_id", merchant_id),
        ("partner_id", partner_id),
        ("processor_id", processor_id),
    ):
        if value is not None:
            claims[name] = value
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)
