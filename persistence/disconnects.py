"""Which database errors mean "the connection is gone", and the one retry the read side makes.

A connection the server dropped (a restart, a failover, `pg_terminate_backend`) fails its next
statement; SQLAlchemy marks that error `connection_invalidated` and invalidates the whole pool, so a
second attempt gets a fresh connection. A database that cannot be reached at all fails to connect
(an OSError from the driver, or PostgreSQL's "cannot connect now", "shutting down" and "too many
clients" codes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from domain.errors import Unavailable

T = TypeVar("T")

logger = logging.getLogger("loyalty.persistence")

# SQLSTATE: class 08 connection exception; 57P operator intervention (admin or crash shutdown,
# cannot connect now); 53300 too many connections (the server turned the connection away).
_GONE_STATES = ("08", "57P", "53300")


def is_disconnect(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        state = getattr(error.orig, "sqlstate", None) or ""
        return bool(error.connection_invalidated) or state.startswith(_GONE_STATES)
    return isinstance(error, OSError)


# Pauses before each retry of a read: at once (the pool was just discarded), after a moment, and
# once more a second later, so a read answering for a committed mutation outlasts a failover's burst.
READ_RETRY_PAUSES = (0.0, 0.2, 1.0)


async def read_retrying(read: Callable[[], Awaitable[T]]) -> T:
    """Run a read (its own short connection, no side effects) again when its connection turns out to
    be gone, after each of READ_RETRY_PAUSES; a database still out of reach is `Unavailable`."""
    pauses = iter(READ_RETRY_PAUSES)
    while True:
        try:
            return await read()
        except Exception as error:
            if not is_disconnect(error):
                raise
            pause = next(pauses, None)
            if pause is None:
                raise Unavailable("the database cannot be reached; retry later") from error
            logger.warning("read lost its database connection, retrying: %s", error)
            await asyncio.sleep(pause)
