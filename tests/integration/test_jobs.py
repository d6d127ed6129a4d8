"""`scripts/jobs`, on both databases, driven by a test clock: each job does what is due, says so
in one summary line, and a second run finds nothing left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from persistence.queries.ledger_check import check_ledger
from scripts.jobs import JOBS, run_jobs
from tests.builders import Scenario
from tests.conftest import Backend


async def test_all_jobs_run_in_order_and_a_second_run_finds_nothing(
    backend: Backend, given: Scenario, return_window: None, capsys: pytest.CaptureFixture[str]
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 25_000, key="p1")  # 250 points, pending for 14 days
    # Far enough ahead that the lot made at maturity has expired too (validity is 24 months).
    later = FixedClock(datetime.now(UTC) + timedelta(days=15))
    much_later = FixedClock(datetime.now(UTC) + timedelta(days=15 + 3 * 366))

    first = await run_jobs(backend.url, ["mature", "expire"], show_progress=True, clock=later)
    expired = await run_jobs(backend.url, list(JOBS), show_progress=False, clock=much_later)
    again = await run_jobs(backend.url, list(JOBS), show_progress=False, clock=much_later)

    assert first[0].startswith("mature: 250 points of 1 purchases now available in ")
    assert first[1].startswith("expire: 0 points of 0 members expired in ")
    assert [line.split(":")[0] for line in expired] == list(JOBS)
    assert any(line.startswith("expire: 250 points of 1 members expired") for line in expired)
    assert all(" 0 points of 0 " in line for line in again if line.startswith(("mature", "expire")))
    assert (await given.balance(member))["available"] == 0
    drawn = capsys.readouterr().err  # the progress bar (rich), drawn on stderr
    assert "mature   " in drawn
    assert "purchases" in drawn
    assert await check_ledger(backend.database.read_engine) == []
