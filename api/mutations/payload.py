"""Run a use case for a resolver: domain errors become data, everything else propagates (and is masked)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.context import Info
from api.errors import UserError
from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError
from domain.ports import UnitOfWork

T = TypeVar("T")


async def run_use_case(
    info: Info, use_case: Callable[[Actor, UnitOfWork, Clock], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    context = info.context
    actor = context.actor
    assert actor is not None, "mutations are guarded by IsAuthenticated"
    try:
        return await use_case(actor, context.uow_factory(), context.clock), []
    except DomainError as error:
        return None, [UserError.from_domain(error)]
