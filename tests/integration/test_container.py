"""The container files hold together (no Docker daemon is needed): the compose file parses and names
the stack, the image is multi-stage, runs as a non-root user and checks /healthz, and the Grafana
dashboard is JSON with a panel for every metric the service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from telemetry import metrics

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_the_app_worker_and_scheduler_beside_their_services() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "worker", "scheduler", "postgres", "redis", "nats"}
    commands = {name: services[name]["command"] for name in ("app", "worker", "scheduler")}
    assert commands == {
        "app": ["loyalty", "serve"],
        "worker": ["loyalty", "worker"],
        "scheduler": ["loyalty", "scheduler"],
    }
    for name in commands:
        env = services[name]["environment"]
        assert services[name]["build"] == "."
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert {"JWT_SECRET", "PERSONAL_DATA_KEYS", "PERSONAL_DATA_LOOKUP_KEY", "METRICS_TOKEN"} <= env.keys()
    assert services["scheduler"]["deploy"]["replicas"] == 2
    assert "--jetstream" in services["nats"]["command"]


def test_the_image_is_multi_stage_non_root_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)


def test_the_dashboard_has_a_panel_for_every_metric() -> None:
    dashboard = json.loads((ROOT / "ops" / "grafana" / "loyalty.json").read_text())
    queries = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    exported = [m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)]
    assert len(exported) == 8
    for name in exported:
        assert name in queries, name
