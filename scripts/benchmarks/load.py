"""A lean closed-loop HTTP/1.1 load generator: N clients, one keep-alive connection each.

Hand-written on asyncio streams because the load shares the machine's cores with the server: a
full HTTP client library would spend more CPU per request than the server we are measuring.
Each client sends a request, waits for the whole answer, checks it, and sends the next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Builds the body of a client's n-th request; checks a response body (True when it succeeded).
BodyFactory = Callable[[int, int], bytes]
Check = Callable[[bytes], bool]
Headers = Callable[[int], dict[str, str]]  # a client's headers, by client number


@dataclass
class LoadResult:
    clients: int
    seconds: float
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None

    @property
    def ops(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency in milliseconds at percentile p (0-100), over successful and failed requests."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def combine(results: list[LoadResult]) -> LoadResult:
    """Several runs of one load as one: counts, time and latencies added up."""
    total = LoadResult(clients=results[0].clients, seconds=sum(r.seconds for r in results))
    for r in results:
        total.ok += r.ok
        total.errors += r.errors
        total.latencies += r.latencies
        total.first_error = total.first_error or r.first_error
    return total


async def run_load(
    *,
    host: str,
    ports: Sequence[int],
    path: str,
    headers: Headers,
    body: BodyFactory,
    check: Check,
    clients: int,
    seconds: float,
    warmup: float = 1.0,
    method: str = "POST",
) -> LoadResult:
    """Drive `clients` connections for `warmup` + `seconds`; only the measured window is counted. A GET
    (a page) sends no body. Client n connects to `ports[n % len(ports)]`: the server's replicas get
    an even share."""
    result = LoadResult(clients=clients, seconds=seconds)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def client(number: int) -> None:
        port = ports[number % len(ports)]
        head = "".join(f"{k}: {v}\r\n" for k, v in headers(number).items())
        prefix = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n{head}"
        )
        reader, writer = await asyncio.open_connection(host, port)
        n = 0
        try:
            while True:
                payload = body(number, n) if method == "POST" else b""
                n += 1
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(f"{prefix}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                status, answer = await _read_response(reader)
                done = time.perf_counter()
                if sent < measure_from:
                    continue
                good = status == 200 and check(answer)
                result.latencies.append(done - sent)
                if good:
                    result.ok += 1
                else:
                    result.errors += 1
                    if result.first_error is None:
                        result.first_error = f"HTTP {status}: {answer[:300].decode(errors='replace')}"
        finally:
            writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return result


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, b"".join(parts)
        parts.append(chunk[:-2])
