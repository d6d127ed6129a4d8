"""schema.graphql is the checked-in contract: it must match the schema the server runs."""

from __future__ import annotations

from scripts.export_schema import SCHEMA_FILE, stale_diff


def test_checked_in_schema_matches_the_live_schema() -> None:
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run scripts/export-schema and commit it"
    diff = stale_diff()
    assert diff is None, f"schema.graphql is stale: run scripts/export-schema and commit it\n{diff}"
