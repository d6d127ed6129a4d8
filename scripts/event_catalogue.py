"""`python -m scripts.event_catalogue`: the README's event catalogue table, generated from the JSON
Schemas in domain/event_schemas/ (a test fails when the README's copy differs)."""

from __future__ import annotations

import json
from pathlib import Path

from domain.events import VERSIONS, EventType

SCHEMAS = Path(__file__).resolve().parents[1] / "domain" / "event_schemas"


def _field(name: str, spec: dict[str, object]) -> str:
    kind = spec.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    shown = "/".join(str(k) for k in kinds if k != "null")
    if "enum" in spec:
        shown = " or ".join(str(v) for v in spec["enum"])  # type: ignore[attr-defined]
    if spec.get("format") == "date-time":
        shown = "date-time"
    optional = "?" if "null" in kinds else ""
    return f"`{name}`{optional} ({shown})"


def table() -> str:
    lines = ["| type | version | when | payload |", "|---|---|---|---|"]
    for event_type in EventType:
        version = VERSIONS[event_type]
        schema = json.loads((SCHEMAS / f"{event_type.value}.v{version}.json").read_text())
        fields = ", ".join(_field(name, spec) for name, spec in schema["properties"].items())
        lines.append(f"| `{event_type.value}` | {version} | {schema['description']} | {fields} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table(), end="")
