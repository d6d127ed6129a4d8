from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from tests.builders import Scenario
from tests.conftest import Backend, GraphQLClient, Tokens


@pytest.fixture
def given(gql: GraphQLClient, tokens: Tokens) -> Scenario:
    return Scenario(gql, tokens)


async def _set_return_window(backend: Backend, days: int) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text("UPDATE programme SET pending_days = :days, catalogue_version = catalogue_version + 1"),
            {"days": days},
        )


@pytest.fixture
async def return_window(backend: Backend) -> AsyncIterator[None]:
    """A 14-day return window, for this test only (the catalogue version makes caches re-read it)."""
    await _set_return_window(backend, 14)
    yield
    await _set_return_window(backend, 0)
