"""Fixtures for the domain unit tests: an in-memory database, a unit of work over it, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.clock import FixedClock
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

# A leap day, so every default expiry (24 months later) is clamped to 28 February 2026.
NOW = datetime(2024, 2, 29, 10, 30, tzinfo=UTC)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow(db: FakeDatabase) -> FakeUnitOfWork:
    """The unit of work the use case under test runs in; givens are written through another one."""
    return FakeUnitOfWork(db)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)
