"""The typed per-request context every resolver reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import strawberry
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from api.loaders import Loaders
from api.rate_limits import Limits
from domain.actors import Actor
from domain.clock import Clock
from domain.ports import (
    ExposureLog,
    OfferWalletReader,
    PurchaseLists,
    ReadModel,
    SettlementImportReader,
    StatementReader,
    UnitOfWork,
)


@dataclass
class Context:
    request_id: str
    actor: Actor | None
    auth_error: str | None  # why a presented token was refused, shown with UNAUTHENTICATED
    client_address: str | None
    response: Response | None  # status and headers set here go out with the GraphQL answer
    limits: Limits
    uow_factory: Callable[[], UnitOfWork]
    # Over the read pool, for use cases that write nothing: they never queue for SQLite's writer.
    read_uow_factory: Callable[[], UnitOfWork]
    reader: ReadModel
    wallet_offers: OfferWalletReader  # me.eligibleOffers' reads of the member's purchases
    purchase_lists: PurchaseLists
    loaders: Loaders
    clock: Clock
    settlement_imports: SettlementImportReader
    statements: StatementReader
    exposures: ExposureLog  # offers listed to members (me.recommendedOffers), batched
    # An admin's reads of members' personal data in this request, audited in batches (personal_reads).
    personal_reads: DataLoader[tuple[int, str], None] | None = None


Info: TypeAlias = strawberry.Info[Context, Any]
