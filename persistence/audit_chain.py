"""The audit log's hash chain: how a row's hash is made, shared by the writer and by verify-ledger.

Each row's `hash` is SHA-256 over the previous row's hash and a canonical JSON of the row's content
(every column but `id`, `prev_hash` and `hash`; times in UTC ISO 8601). The first row follows
GENESIS. Changing, removing or reordering a row changes a hash that the next row's `prev_hash` and
the `audit_chain` head were made from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
CONTENT_COLUMNS = (
    "actor",
    "action",
    "target_type",
    "target_id",
    "member_id",
    "before",
    "after",
    "request_id",
    "created_at",
)

# The triggers the migration creates, for tests that must empty the table between runs (and for an
# operator restoring them). The migration keeps its own frozen copy.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)
PG_DISABLE_TRIGGER = "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
PG_ENABLE_TRIGGER = "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"


def _iso(at: datetime) -> str:
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()


def canonical(content: Mapping[str, Any]) -> str:
    shown = {name: content[name] for name in CONTENT_COLUMNS}
    shown["created_at"] = _iso(shown["created_at"])
    return json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode()).hexdigest()
