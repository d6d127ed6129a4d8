"""The per-process catalogue cache: a change made by one process is seen by another from its next
transaction, and a change that was rolled back is never served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from domain.merchants import MerchantCategory, MerchantChannel
from persistence.engine import Database, create_database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.conftest import Backend

AT = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture
async def other_process(backend: Backend) -> AsyncIterator[Database]:
    """A second set of engines on the same database: what another server worker holds."""
    database = create_database(backend.url)
    yield database
    await database.dispose()


async def add_merchant(database: Database, name: str, *, commit: bool = True) -> int:
    uow = SqlAlchemyUnitOfWork(database.write_engine)
    async with uow:
        merchant = await uow.merchants.add(
            name=name,
            category=MerchantCategory.DINING,
            channel=MerchantChannel.BOTH,
            partner_id=None,
            earn_rate_override=None,
            at=AT,
        )
        if commit:
            await uow.commit()
    return merchant.id


async def merchant_name(database: Database, merchant_id: int) -> str | None:
    uow = SqlAlchemyUnitOfWork(database.write_engine)
    async with uow:
        merchant = await uow.merchants.get(merchant_id)
    return merchant.name if merchant else None


async def test_a_merchant_added_by_another_process_is_seen_from_the_next_transaction(
    backend: Backend, other_process: Database
) -> None:
    first = await add_merchant(backend.database, "Tea House")
    # This process caches the answer for the next id too: no such merchant.
    assert await merchant_name(backend.database, first) == "Tea House"
    assert await merchant_name(backend.database, first + 1) is None

    added = await add_merchant(other_process, "Noodle Bar")

    assert added == first + 1
    assert await merchant_name(backend.database, added) == "Noodle Bar"


async def test_a_rolled_back_merchant_is_never_served_from_the_cache(backend: Backend) -> None:
    await add_merchant(backend.database, "Tea House")
    ghost = await add_merchant(backend.database, "Ghost Kitchen", commit=False)

    assert await merchant_name(backend.database, ghost) is None
