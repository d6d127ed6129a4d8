"""Rate limits per principal and limits on guessing secrets, counted by the `limits` library: in Redis
when REDIS_URL is set, so every worker process and host shares one count, else in this process's
memory (the embedded default, for a single process).

A principal is a token's role and subject, or the client's address when no token was accepted.
Requests and codes created use the sliding window counter: two counters per principal whatever its
limit, so a merchant's 12,000 a minute costs no more memory than a member's 120 (it weighs the
previous window's count, an approximation that errs by at most a request or two at a window's edge).
Wrong codes and lockouts, rare and small, use the exact moving window, one timestamp per hit: the
lockout's reset time is when its cool-down ends.

When the store cannot be reached the request goes on (logged): rate limits protect the service,
and an outage of their store must not stop members paying at a till.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.responses import JSONResponse
from starlette.types import Scope

from api.settings import ANONYMOUS, Settings
from domain.actors import Actor
from domain.security import Secret
from telemetry.metrics import count_refusal

logger = logging.getLogger("loyalty.api")

T = TypeVar("T")
# A store that does not answer this fast is treated as down, so a request never waits long on it.
STORE_TIMEOUT_SECONDS = 0.5


def storage_uri(redis_url: str) -> str:
    """REDIS_URL (redis://, rediss:// or unix://) as the `limits` async storage scheme."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


def build_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        storage = storage_from_string(
            storage_uri(settings.redis_url),
            key_prefix=settings.rate_limit_key_prefix,
            wrap_exceptions=True,
            connect_timeout=STORE_TIMEOUT_SECONDS,
            stream_timeout=STORE_TIMEOUT_SECONDS,
        )
    else:
        storage = storage_from_string("async+memory://", wrap_exceptions=True)
    return cast(Storage, storage)


def principal_of(actor: Actor) -> str:
    return f"{actor.role.value}:{actor.subject}"


def client_address(scope: Scope) -> str | None:
    """The peer address; behind a proxy, uvicorn's --proxy-headers puts the forwarded one here."""
    client = scope.get("client")
    return str(client[0]) if client else None


def seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


def too_many_requests(retry_after: int) -> JSONResponse:
    """HTTP 429 with a GraphQL-style body, so clients read it like any other GraphQL error."""
    return JSONResponse(
        {
            "errors": [
                {
                    "message": f"Too many requests: try again in {retry_after} seconds",
                    "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
                }
            ]
        },
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


class Limits:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.storage = storage if storage is not None else build_storage(settings)
        self.requests = SlidingWindowCounterRateLimiter(self.storage)
        self.exact = MovingWindowRateLimiter(self.storage)
        self.per_role = {name: parse_many(notation) for name, notation in settings.rate_limits.items()}
        self.code_creation = parse_many(settings.code_creation_limit)
        self.failures = RateLimitItemPerSecond(settings.guess_max_failures, settings.guess_window_seconds)
        self.lockout = RateLimitItemPerSecond(1, settings.guess_cooldown_seconds)
        self.max_failures = settings.guess_max_failures
        self.cooldown_seconds = settings.guess_cooldown_seconds

    async def _guarded(self, what: str, call: Callable[[], Awaitable[T]], otherwise: T) -> T:
        try:
            return await call()
        except StorageError as exc:
            logger.error("rate-limit store unavailable, %s not limited: %r", what, exc.storage_error)
            return otherwise

    async def _hit_all(self, limiter: RateLimiter, items: Sequence[RateLimitItem], *key: str) -> int | None:
        for item in items:
            if not await limiter.hit(item, *key):
                return seconds_until((await limiter.get_window_stats(item, *key)).reset_time)
        return None

    async def request_refused(self, actor: Actor | None, address: str | None) -> int | None:
        """Count one request; the seconds to wait when it is over its principal's limit."""
        if actor is None:
            items, key = self.per_role[ANONYMOUS], f"{ANONYMOUS}:{address or '-'}"
        else:
            items = self.per_role.get(actor.role.value) or self.per_role["merchant"]
            key = principal_of(actor)
        refused = await self._guarded(
            "request", lambda: self._hit_all(self.requests, items, "requests", key), None
        )
        if refused is not None:
            count_refusal("request")
        return refused

    async def code_creation_refused(self, actor: Actor) -> int | None:
        """Count one code created; the seconds to wait when the member made too many lately."""
        refused = await self._guarded(
            "code creation",
            lambda: self._hit_all(self.requests, self.code_creation, "codes", principal_of(actor)),
            None,
        )
        if refused is not None:
            count_refusal("code_creation")
        return refused

    async def locked_out(self, secret: Secret, actor: Actor) -> int | None:
        """The seconds left of this caller's cool-down for this kind of code, or None."""

        async def check() -> int | None:
            key = ("lockout", secret.value, principal_of(actor))
            if await self.exact.test(self.lockout, *key):
                return None
            return seconds_until((await self.exact.get_window_stats(self.lockout, *key)).reset_time)

        locked = await self._guarded("guessing", check, None)
        if locked is not None:
            count_refusal("guessing")
        return locked

    async def wrong_code(self, secret: Secret, actor: Actor) -> bool:
        """Count a wrong code; True for the one call that starts a lockout, however many run at once
        (the lockout's single slot is taken atomically by one of them)."""

        async def count() -> bool:
            failures = ("wrong", secret.value, principal_of(actor))
            if await self.exact.hit(self.failures, *failures) and await self.exact.test(
                self.failures, *failures
            ):
                return False  # still under the limit
            if not await self.exact.hit(self.lockout, "lockout", secret.value, principal_of(actor)):
                return False  # another request started this lockout
            await self.exact.clear(self.failures, *failures)  # after the cool-down: a fresh count
            return True

        return await self._guarded("guessing", count, False)
