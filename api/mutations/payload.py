"""Run a use case for a resolver: domain errors become data, everything else propagates (and is masked).

A use case whose database connection turned out to be gone before it committed changed nothing
(`Unavailable`, from the unit of work): it runs again on a fresh connection, since SQLAlchemy has
discarded the pool. When the connection died during COMMIT the answer is OUTCOME_UNKNOWN, never a
retry here: the caller retries with the same idempotency key, which replays the change if it was made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.context import Info
from api.errors import UserError
from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError, Unavailable
from domain.ports import UnitOfWork

T = TypeVar("T")

logger = logging.getLogger("loyalty.api")

# Pauses before each retry: the first at once (the pool was just replaced), the next after a moment
# in case the server is restarting.
RETRY_PAUSES = (0.0, 0.2)


async def run_use_case(
    info: Info, use_case: Callable[[Actor, UnitOfWork, Clock], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    context = info.context
    actor = context.actor
    assert actor is not None, "mutations are guarded by IsAuthenticated"
    try:
        return await retrying(info, lambda: use_case(actor, context.uow_factory(), context.clock)), []
    except DomainError as error:
        return None, [UserError.from_domain(error)]


async def retrying(info: Info, work: Callable[[], Awaitable[T]]) -> T:
    """`work` (which takes a fresh unit of work each time) again while it fails with `Unavailable`
    (nothing was committed), up to len(RETRY_PAUSES) times; then the last `Unavailable`. Also for
    the few reads that go through a unit of work."""
    pauses = iter(RETRY_PAUSES)
    while True:
        try:
            return await work()
        except Unavailable:
            pause = next(pauses, None)
            if pause is None:
                raise
            logger.warning("request_id=%s lost its database connection; retrying", info.context.request_id)
            await asyncio.sleep(pause)
