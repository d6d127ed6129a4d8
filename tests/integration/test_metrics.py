"""/metrics: what each metric counts (exact deltas on this process's registry), who may read it, and
the several workers of `scripts/serve` added up in Prometheus' multiprocess mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.settings import Settings
from scripts.jobs import run_jobs
from telemetry.metrics import set_outbox_lag
from tests.builders import Scenario
from tests.conftest import JWT_SECRET, Backend
from tests.integration.test_serve import ROOT, _free_port, _wait_for

METRICS_TOKEN = "scrape-me-please-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def total(name: str, **labels: str) -> float:
    """The sum over every labelled child matching `labels`."""
    found = 0.0
    for family in REGISTRY.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                found += s.value
    return found


async def test_postings_replays_and_payload_errors_are_counted(given: Scenario) -> None:
    member = await given.member()
    before = {
        "adjust": sample("loyalty_ledger_postings_total", kind="ADJUST"),
        "replayed": sample("loyalty_idempotent_replays_total", outcome="replayed"),
        "reused": sample("loyalty_idempotent_replays_total", outcome="key_reused"),
        "reused_error": sample("loyalty_errors_total", source="payload", code="IDEMPOTENCY_KEY_REUSED"),
        "not_found": sample("loyalty_errors_total", source="payload", code="NOT_FOUND"),
    }

    assert (await given.adjust(member, 500, "metrics-1"))["errors"] == []
    assert (await given.adjust(member, 500, "metrics-1"))["errors"] == []  # replayed: nothing posted
    assert (await given.adjust(member, 400, "metrics-1"))["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await given.adjust(member, 300, "metrics-2"))["errors"] == []

    assert sample("loyalty_ledger_postings_total", kind="ADJUST") - before["adjust"] == 2
    assert sample("loyalty_idempotent_replays_total", outcome="replayed") - before["replayed"] == 1
    assert sample("loyalty_idempotent_replays_total", outcome="key_reused") - before["reused"] == 1
    reused = sample("loyalty_errors_total", source="payload", code="IDEMPOTENCY_KEY_REUSED")
    assert reused - before["reused_error"] == 1
    assert sample("loyalty_errors_total", source="payload", code="NOT_FOUND") == before["not_found"]


async def test_requests_are_timed_by_operation_name_and_graphql_errors_counted(given: Scenario) -> None:
    headers = {"Authorization": f"Bearer {given.admin}"}
    timed_before = sample("loyalty_graphql_request_seconds_count", operation="MetricsProbe")
    anonymous_before = sample("loyalty_graphql_request_seconds_count", operation="anonymous")
    errors_before = total("loyalty_errors_total", source="graphql")

    for _ in range(3):
        answer = await given.gql.http.post(
            "/graphql", json={"query": "query MetricsProbe { tiers { name } }"}, headers=headers
        )
        assert "errors" not in answer.json()
    await given.gql.http.post("/graphql", json={"query": "{ noSuchField }"}, headers=headers)

    assert sample("loyalty_graphql_request_seconds_count", operation="MetricsProbe") - timed_before == 3
    assert sample("loyalty_graphql_request_seconds_count", operation="anonymous") - anonymous_before == 1
    assert total("loyalty_errors_total", source="graphql") - errors_before == 1


async def test_rate_limit_refusals_are_counted(settings: Settings, backend: Backend) -> None:
    limited = replace(settings, rate_limits={**settings.rate_limits, "anonymous": "1/minute"})
    before = sample("loyalty_rate_limit_refusals_total", limit="request")
    app = create_app(limited, backend.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        statuses = [
            (await http.post("/graphql", json={"query": "{ __typename }"})).status_code for _ in range(3)
        ]
    assert statuses == [200, 429, 429]
    assert sample("loyalty_rate_limit_refusals_total", limit="request") - before == 2


async def test_job_runs_are_counted_and_timed(backend: Backend) -> None:
    runs = sample("loyalty_job_runs_total", job="mature", outcome="ok")
    timed = sample("loyalty_job_duration_seconds_count", job="mature")

    await run_jobs(backend.url, ["mature", "mature"], show_progress=False)

    assert sample("loyalty_job_runs_total", job="mature", outcome="ok") - runs == 2
    assert sample("loyalty_job_duration_seconds_count", job="mature") - timed == 2


def test_the_outbox_lag_is_what_the_worker_last_set() -> None:
    set_outbox_lag(12.5)
    assert sample("loyalty_outbox_lag_seconds") == 12.5
    set_outbox_lag(-3)  # a clock step backwards is no lag
    assert sample("loyalty_outbox_lag_seconds") == 0


@pytest.mark.parametrize(
    ("environment", "token", "authorization", "status"),
    [
        ("development", None, None, 200),
        ("production", None, None, 404),
        ("production", METRICS_TOKEN, None, 401),
        ("production", METRICS_TOKEN, "Bearer wrong-token-wrong-token", 401),
        ("production", METRICS_TOKEN, f"Bearer {METRICS_TOKEN}", 200),
        ("development", METRICS_TOKEN, None, 401),
    ],
)
async def test_who_may_read_metrics(
    settings: Settings,
    backend: Backend,
    environment: str,
    token: str | None,
    authorization: str | None,
    status: int,
) -> None:
    production = {
        "environment": "production",
        "graphiql": False,
        "introspection": False,
        "jwt_allow_hs256": True,
        "personal_data_keys": ("a" * 43 + "=",),
        "personal_data_lookup_key": "k" * 32,
    }
    chosen = replace(settings, metrics_token=token, **(production if environment == "production" else {}))
    app = create_app(chosen, backend.database)
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == status
    if status == 200:
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        assert {"loyalty_graphql_request_seconds", "loyalty_ledger_postings", "loyalty_errors"} <= names


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`scripts/serve` with WORKERS=2 on a fresh SQLite database: its port and metrics directory."""
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}",
        "SEED_DEMO": "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
        "ACCESS_LOG": "0",
        "JWT_SECRET": JWT_SECRET,
        "VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    env.pop("LOYALTY_ENV", None)
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/healthz", process)
            yield port, metrics_dir
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _worker_pids(metrics_dir: Path) -> set[str]:
    """The processes that wrote metrics files (named <kind>_<pid>.db)."""
    return {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("*.db")}


def _post(port: int, query: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:  # a document that does not validate: 400
        return refused.code, json.load(refused)


def test_metrics_of_two_workers_are_added_up(two_workers: tuple[int, Path]) -> None:
    port, metrics_dir = two_workers
    requests, failing = 40, 10
    answers = [
        _post(port, "query TwoWorkers { noSuchField }" if n < failing else "query TwoWorkers { __typename }")
        for n in range(requests)
    ]
    assert answers[failing:] == [(200, {"data": {"__typename": "Query"}})] * (requests - failing)
    assert all("errors" in body for _, body in answers[:failing])

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()

    # Both workers started and keep their own files; the scrape, served by either, adds them up.
    assert len(_worker_pids(metrics_dir)) >= 2, sorted(metrics_dir.iterdir())
    counted = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "loyalty_graphql_request_seconds_count" and s.labels.get("operation") == "TwoWorkers"
    ]
    assert counted == [requests]
    errors = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "loyalty_errors_total" and s.labels.get("source") == "graphql"
    ]
    assert sum(errors) == failing
