"""Run a use case for a resolver: domain errors become data, everything else propagates (and is masked).

A use case whose database connection turned out to be gone before it committed changed nothing
(`Unavailable`, from the unit of work): it runs again on a fresh connection, since SQLAlchemy has
discarded the pool. When the connection died during COMMIT the answer is OUTCOME_UNKNOWN, never a
retry here: the caller retries with the same idempotency key, which replays the change if it was made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from api.context import Context, Info
from api.errors import UserError
from api.rate_limits import principal_of
from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError, TooManyAttempts, Unavailable
from domain.ports import UnitOfWork
from domain.security import Secret, SecurityEvent, SecurityEventKind
from domain.services.security import record_security_event
from telemetry.metrics import count_errors

T = TypeVar("T")
logger = logging.getLogger("loyalty.api")

# Pauses before each retry: the first at once (the pool was just replaced), the next after a moment
# in case the server is restarting.
RETRY_PAUSES = (0.0, 0.2)


async def run_use_case(
    info: Info,
    use_case: Callable[[Actor, UnitOfWork, Clock], Awaitable[T]],
    *,
    guessing: Mapping[str, Secret] | None = None,
    reads_only: bool = False,
) -> tuple[T | None, list[UserError]]:
    """`guessing` names, by input field, the kinds of code the input presents: a caller that gave too
    many wrong ones of a kind lately is refused before the use case runs, even with a right one. A use
    case that writes nothing passes `reads_only` and runs over the read pool."""
    context = info.context
    actor = context.actor
    assert actor is not None, "mutations are guarded by IsAuthenticated"
    for field, secret in (guessing or {}).items():
        retry_after = await context.limits.locked_out(secret, actor)
        if retry_after is not None:
            refusal = TooManyAttempts(
                f"too many wrong codes: try again in {retry_after} seconds", (field,), retry_after
            )
            count_errors("payload", [refusal.code.value])
            return None, [UserError.from_domain(refusal)]
    try:
        uow_factory = context.read_uow_factory if reads_only else context.uow_factory
        return await retrying(info, lambda: use_case(actor, uow_factory(), context.clock)), []
    except DomainError as error:
        guessed = _guessed(guessing, error)
        if guessed is not None:
            await _count_wrong_code(context, actor, guessed)
        count_errors("payload", [error.code.value])
        return None, [UserError.from_domain(error)]


def _guessed(guessing: Mapping[str, Secret] | None, error: DomainError) -> Secret | None:
    """The kind of code a refusal says was wrong: by the field it names, or the input's only kind."""
    if not guessing or not error.wrong_code:
        return None
    if error.field and error.field[0] in guessing:
        return guessing[error.field[0]]
    return next(iter(guessing.values())) if len(guessing) == 1 else None


async def _count_wrong_code(context: Context, actor: Actor, secret: Secret) -> None:
    if not await context.limits.wrong_code(secret, actor):
        return
    event = SecurityEvent(
        kind=SecurityEventKind.GUESSING_LOCKOUT,
        secret=secret,
        principal=principal_of(actor)[:200],
        client_address=(context.client_address or "")[:64] or None,
        failures=context.limits.max_failures,
        cooldown_seconds=context.limits.cooldown_seconds,
        request_id=context.request_id,
        at=context.clock.now(),
    )
    logger.warning(
        "guessing lockout request_id=%s secret=%s role=%s cooldown=%ss",
        context.request_id,
        secret.value,
        actor.role.value,
        event.cooldown_seconds,
    )
    await record_security_event(event, uow=context.uow_factory())


async def retrying(info: Info, work: Callable[[], Awaitable[T]]) -> T:
    """`work` (which takes a fresh unit of work each time) again while it fails with `Unavailable`
    (nothing was committed), up to len(RETRY_PAUSES) times; then the last `Unavailable`. Also for
    the few reads that go through a unit of work."""
    return await retrying_for(info.context, work)


async def retrying_for(context: Context, work: Callable[[], Awaitable[T]]) -> T:
    """`retrying` where only the context is at hand."""
    pauses = iter(RETRY_PAUSES)
    while True:
        try:
            return await work()
        except Unavailable:
            pause = next(pauses, None)
            if pause is None:
                raise
            logger.warning("request_id=%s lost its database connection; retrying", context.request_id)
            await asyncio.sleep(pause)
