"""The typed per-request context every resolver reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import strawberry

from api.loaders import Loaders
from domain.actors import Actor
from domain.clock import Clock
from domain.ports import ReadModel, UnitOfWork


@dataclass
class Context:
    request_id: str
    actor: Actor | None
    auth_error: str | None  # why a presented token was refused, shown with UNAUTHENTICATED
    uow_factory: Callable[[], UnitOfWork]
    reader: ReadModel
    loaders: Loaders
    clock: Clock


Info: TypeAlias = strawberry.Info[Context, Any]
