"""Run the real server (`scripts/serve`, uvicorn) as a subprocess for the benchmark, and read its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from api.settings import DEFAULT_RATE_LIMITS

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m scripts.serve` with the given database and worker count; no demo data, no access log."""

    def __init__(
        self,
        *,
        database_url: str,
        workers: int,
        jwt_secret: str,
        pool_size: int,
        settings: dict[str, str] | None = None,
    ) -> None:
        """`settings`: more environment for the server (e.g. PROFILES=false)."""
        self.port = free_port()
        self.workers = workers
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WORKERS": str(workers),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "SEED_DEMO": "0",
            "ACCESS_LOG": "0",
            "GRAPHIQL": "0",
            "JWT_SECRET": jwt_secret,
            "DB_POOL_SIZE": str(pool_size),
            # One token drives hundreds of requests a second here, more than any real caller sends:
            # the limits are still counted (their cost is measured) but never reached.
            **{f"RATE_LIMIT_{name.upper()}": "1000000/second" for name in DEFAULT_RATE_LIMITS},
            **(settings or {}),
        }
        (ROOT / "var").mkdir(exist_ok=True)
        self.log = (ROOT / "var" / "bench-server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.serve"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        ready_workers = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited early; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        ready_workers += 1
                        # Every worker must have started; a few answers in a row make that likely.
                        if ready_workers >= 3 * self.workers and len(self.worker_pids()) == self.workers:
                            return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not become ready; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        """uvicorn serves in the main process with one worker, and in child processes with more."""
        if self.workers == 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return []
        # The multiprocessing resource tracker is a child too; workers are the ones running uvicorn.
        return [p for p in pids if b"multiprocessing.resource_tracker" not in _cmdline(p)]

    def peak_rss_mb(self) -> float:
        """The largest peak resident set size (VmHWM) among the workers, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return max(peaks, default=0.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
