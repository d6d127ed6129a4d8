"""Run a points-moving use case at most once per (caller, idempotency key).

A retry with the same key and input replays the first answer (a success or a business rejection)
and moves nothing; the same key with different input is IDEMPOTENCY_KEY_REUSED. Input that fails
validation is not stored, so the caller may correct it and retry with the same key.

The answer is recorded under its key at the end of the work's transaction, by the statement that
would also find an earlier one: one round trip per request rather than a claim before the work and
an update after it. A retry whose key is already recorded does the work, finds the record, rolls
its work back and replays; two concurrent first requests with one key serialize on the key's
unique index, and the second replays the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields, is_dataclass
from typing import Any, Protocol, TypeVar

from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError, IdempotencyKeyReused
from domain.ports import StoredResponse, UnitOfWork
from domain.results import ANSWER_ONLY
from domain.risk import RiskRefused, risk_decision_event
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

    rejection: DomainError | None = None
    async with uow:
        try:
            result = await work()
        except DomainError as error:
            if not error.replayable:
                # Bad input today may have been a good request before: answer as we did then.
                earlier = await uow.idempotency.stored(scope, key)
                if earlier is None:
                    raise
                return _replay(earlier, digest, result_type)
            rejection = error
        else:
            answer: dict[str, object] = {"result": stored_fields(result)}
            earlier = await uow.idempotency.record(scope, key, digest, answer, clock.now())
            if earlier is None:
                await uow.commit()
                return result
    if rejection is None:
        assert earlier is not None, "a recorded answer was found, or the work committed and returned"
        return _replay(earlier, digest, result_type)  # our work was rolled back

    # The rejected work was rolled back; record the rejection on its own so a retry gets it again.
    async with uow:
        earlier = await uow.idempotency.record(
            scope, key, digest, {"error": rejection.to_dict()}, clock.now()
        )
        if earlier is None:
            if isinstance(rejection, RiskRefused):  # the audit log keeps every risk decision
                reason: dict[str, object] = {"reason": rejection.message}
                event = risk_decision_event(
                    actor, "security.risk_refused", rejection.member_id, reason, clock.now()
                )
                await uow.audit.record(event)
            await uow.commit()
            raise rejection
    return _replay(earlier, digest, result_type)


def stored_fields(result: object) -> dict[str, object]:
    """What of a result is kept for replays: every field but those marked ANSWER_ONLY (the state the
    first answer reports as committed, which a replay later reads afresh)."""
    if not is_dataclass(result) or isinstance(result, type):
        raise TypeError("a use case's result is a dataclass instance")
    kept = {f.name for f in fields(result) if not f.metadata.get(ANSWER_ONLY)}
    return {name: value for name, value in asdict(result).items() if name in kept}


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
