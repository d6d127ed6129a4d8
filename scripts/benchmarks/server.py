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
    """`python -m scripts.serve` with the given database: `workers` single-worker processes, each on
    its own port, as replicas behind a load balancer; no demo data, no access log.

    Not uvicorn's `--workers` on one port: there the kernel hands each new connection to whichever
    worker accepts first, and a load's 32 connections were seen split 24/8, 28/4 and even 32/0, a
    different split for every load, so one load ran on one core and the next on two. The load
    generator spreads its clients over `ports` evenly instead."""

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
        self.ports = [free_port() for _ in range(workers)]
        self.workers = workers
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WORKERS": "1",
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
        self.processes: list[subprocess.Popen[bytes]] = []
        for port in self.ports:  # one after another: each runs the (already done) migrations first
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "scripts.serve"],
                    cwd=ROOT,
                    env={**env, "PORT": str(port)},
                    stdout=self.log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            self._wait_ready(self.processes[-1], port)

    @property
    def port(self) -> int:
        """One replica's port, for a caller that needs only one."""
        return self.ports[0]

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.stop()
                raise SystemExit(f"the server exited early; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not become ready; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

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
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.log.close()
