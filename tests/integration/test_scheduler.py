"""One scheduler of several runs the jobs; when it dies another takes over (PostgreSQL's advisory lock;
on SQLite a file lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.jobs import JOBS
from scripts.scheduler import DEFAULT_SCHEDULE, FileLock, schedule_from_env
from tests.conftest import JWT_SECRET, Backend
from tests.integration.test_serve import ROOT

WAIT_SECONDS = 120  # a ceiling for a slow machine, not a measurement


class Scheduler:
    def __init__(self, url: str, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "JWT_SECRET": JWT_SECRET,
            "SCHEDULER_STANDBY_SECONDS": "0.5",
            "LOG_FORMAT": "text",
            # One cheap job, often; the rest off.
            **{f"SCHEDULE_{name.upper().replace('-', '_')}_SECONDS": "0" for name in JOBS},
            "SCHEDULE_MATURE_SECONDS": "1",
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scripts.scheduler"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def runs(self) -> int:
        return sum(line.startswith("mature: ") for line in self.lines())

    def holds(self) -> bool:
        return any("holding the lock" in line for line in self.lines())

    def standing_by(self) -> bool:
        return any("standing by" in line for line in self.lines())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(condition: Callable[[], bool], what: str, schedulers: list[Scheduler]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {s.log.name}\n" + "\n".join(s.lines()) for s in schedulers)
    raise AssertionError(f"{what} did not happen\n{logs}")


@pytest.fixture
def two_schedulers(pg_backend: Backend, tmp_path: Path) -> Iterator[list[Scheduler]]:
    schedulers = [Scheduler(pg_backend.url, tmp_path / f"scheduler-{n}.log") for n in (1, 2)]
    try:
        yield schedulers
    finally:
        for scheduler in schedulers:
            scheduler.stop()


def test_one_scheduler_runs_the_jobs_and_another_takes_over_when_it_dies(
    two_schedulers: list[Scheduler],
) -> None:
    first, second = two_schedulers
    wait_until(lambda: first.holds() or second.holds(), "a scheduler taking the lock", two_schedulers)
    holder, standby = (first, second) if first.holds() else (second, first)
    wait_until(standby.standing_by, "the other standing by", two_schedulers)
    wait_until(lambda: holder.runs() >= 3, "three runs of the job", two_schedulers)
    assert standby.runs() == 0
    assert not standby.holds()

    holder.process.send_signal(signal.SIGKILL)  # no clean release: the lock goes with its connection
    holder.process.wait()
    wait_until(standby.holds, "the standby taking over", two_schedulers)
    wait_until(lambda: standby.runs() >= 2, "runs by the new holder", two_schedulers)


async def test_the_sqlite_file_lock_is_held_by_one(tmp_path: Path) -> None:
    path = tmp_path / "loyalty.db.scheduler.lock"
    first, second = FileLock(path), FileLock(path)
    assert await first.acquire()
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()
    await second.release()


def test_schedules_come_from_the_environment() -> None:
    schedule = schedule_from_env({"SCHEDULE_SEGMENTS_SECONDS": "30", "SCHEDULE_PROFILES_SECONDS": "0"})
    assert schedule["segments"] == 30
    assert "profiles" not in schedule
    assert schedule["mature"] == DEFAULT_SCHEDULE["mature"]
    assert set(schedule) == set(JOBS) - {"profiles"}
