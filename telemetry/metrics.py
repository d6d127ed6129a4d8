"""The service's Prometheus metrics, in one place, and how to read them.

Several uvicorn workers each count in their own process: with PROMETHEUS_MULTIPROC_DIR set (before
this module is first imported: `scripts/serve` sets it for its workers) every process writes its values
to files in that directory and `/metrics` adds them up (prometheus_client's multiprocess mode).
Without it the values are this process's own.

Every label here has a bounded set of values: codes are enum names, job names are fixed, and the
operation names clients send are kept only while few (MAX_OPERATIONS per process) and well-formed.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter as Tally
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
ANONYMOUS_OPERATION = "anonymous"
OTHER = "other"
# Distinct operation names (and error codes) one process labels before it counts the rest as "other".
MAX_OPERATIONS = 100
MAX_CODES = 60
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,47}$")

# In multiprocess mode the values live in files there, opened as each metric is made, just below.
if os.environ.get(MULTIPROC_ENV):
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

REQUEST_SECONDS = Histogram(
    "loyalty_graphql_request_seconds",
    "GraphQL requests by operation name (or anonymous): time from parse to answer",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "loyalty_errors_total",
    "Errors answered, by code: source=payload for a mutation's UserError, graphql for a top-level error "
    "(UNEXPECTED when masked)",
    ["source", "code"],
)
IDEMPOTENT_REPLAYS = Counter(
    "loyalty_idempotent_replays_total",
    "Requests answered from an earlier one under the same idempotency key: replayed, or key_reused "
    "(the same key with a different request)",
    ["outcome"],
)
LEDGER_POSTINGS = Counter(
    "loyalty_ledger_postings_total", "Journal entries committed, by entry kind", ["kind"]
)
JOB_RUNS = Counter("loyalty_job_runs_total", "Scheduled job runs, by job and outcome", ["job", "outcome"])
JOB_SECONDS = Histogram(
    "loyalty_job_duration_seconds",
    "How long one run of a scheduled job took",
    ["job"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)
OUTBOX_LAG = Gauge(
    "loyalty_outbox_lag_seconds",
    "Age of the oldest outbox message not yet published (0 when none waits); set by the outbox worker",
    multiprocess_mode="max",
)
RATE_LIMIT_REFUSALS = Counter(
    "loyalty_rate_limit_refusals_total",
    "Requests refused by a limit: request (per-principal rate, HTTP 429), code_creation, guessing "
    "(a lockout after wrong codes)",
    ["limit"],
)

_lock = threading.Lock()
_operations: set[str] = set()
_codes: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label for a client's operation name: anonymous when it has none, other past the cap or
    when it is not a plain GraphQL name."""
    if not name:
        return ANONYMOUS_OPERATION
    return _bounded(name, _NAME, _operations, MAX_OPERATIONS)


def code_label(code: object) -> str:
    return _bounded(str(code), _CODE, _codes, MAX_CODES)


def _bounded(value: str, pattern: re.Pattern[str], seen: set[str], cap: int) -> str:
    if value in seen:
        return value
    if not pattern.match(value):
        return OTHER
    with _lock:
        if len(seen) >= cap:
            return OTHER
        seen.add(value)
    return value


def observe_request(operation: str | None, seconds: float) -> None:
    REQUEST_SECONDS.labels(operation_label(operation)).observe(seconds)


def count_errors(source: str, codes: Iterable[object]) -> None:
    for code in codes:
        ERRORS.labels(source, code_label(code)).inc()


def count_replay(*, key_reused: bool) -> None:
    IDEMPOTENT_REPLAYS.labels("key_reused" if key_reused else "replayed").inc()


def count_postings(kinds: Mapping[str, int] | Tally[str]) -> None:
    """Journal entries by kind, once their transaction committed."""
    for kind, n in kinds.items():
        if n:
            LEDGER_POSTINGS.labels(kind).inc(n)


def count_job_run(job: str, seconds: float, *, ok: bool) -> None:
    JOB_RUNS.labels(job, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(job).observe(seconds)


def set_outbox_lag(seconds: float) -> None:
    """For the outbox worker, after each poll: the age in seconds of the oldest message still waiting to
    be published, 0 when the outbox is empty. Across processes the largest value is reported."""
    OUTBOX_LAG.set(max(0.0, seconds))


def count_refusal(limit: str) -> None:
    RATE_LIMIT_REFUSALS.labels(limit).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def registry() -> CollectorRegistry:
    """What to expose: every process's values in multiprocess mode, else this process's."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected, path=path)
    return collected


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(registry())


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """A /metrics listener of its own, for processes that are not the app (scheduler, worker)."""
    start_http_server(port, addr=host, registry=registry())
