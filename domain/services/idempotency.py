"""Run a points-moving use case at most once per (caller, idempotency key).

A retry with the same key and input replays the first answer (a success or a business rejection)
and moves nothing; the same key with different input is IDEMPOTENCY_KEY_REUSED. Input that fails
validation is not stored, so the caller may correct it and retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Protocol, TypeVar

from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError, IdempotencyKeyReused
from domain.ports import StoredResponse, UnitOfWork
from domain.validation import idempotency_key

R = TypeVar("R")


class KeyedCommand(Protocol):
    @property
    def idempotency_key(self) -> str: ...


def request_hash(command: Any) -> str:
    """A digest of everything the caller asked for except the key itself."""
    fields = {k: v for k, v in asdict(command).items() if k != "idempotency_key"}
    canonical = json.dumps({"type": type(command).__name__, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    command: KeyedCommand,
    *,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    result_type: type[R],
    work: Callable[[], Awaitable[R]],
) -> R:
    key = idempotency_key(command.idempotency_key)
    scope = actor.idempotency_scope
    digest = request_hash(command)

    async with uow:
        stored = await uow.idempotency.claim(scope, key, digest, clock.now())
        if stored is None:
            try:
                result = await work()
            except DomainError as error:
                if not error.replayable:
                    raise
                rejection = error
            else:
                await uow.idempotency.complete(scope, key, {"result": asdict(result)})  # type: ignore[call-overload]
                await uow.commit()
                return result
    if stored is not None:
        return _replay(stored, digest, result_type)

    # The rejected work was rolled back; store the rejection on its own so a retry gets the same answer.
    async with uow:
        stored = await uow.idempotency.claim(scope, key, digest, clock.now())
        if stored is None:
            await uow.idempotency.complete(scope, key, {"error": rejection.to_dict()})
            await uow.commit()
            raise rejection
    return _replay(stored, digest, result_type)


def _replay(stored: StoredResponse, digest: str, result_type: type[R]) -> R:
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            "this idempotency key was already used with a different request", ("idempotencyKey",)
        )
    error = stored.response.get("error")
    if isinstance(error, dict):
        raise DomainError.from_dict(error)
    result = stored.response["result"]
    assert isinstance(result, dict)
    return result_type(**result)
