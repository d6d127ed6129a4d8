"""Verify the audit log's hash chain (part of verify-ledger, in its snapshot).

Rows are read in id order, in batches; each row's `prev_hash` must be the hash of the row before
(GENESIS for the first) and its `hash` must be what its content and `prev_hash` give. The first row
that fails is named and the walk stops there: every later row would fail against it. The head
(`audit_chain`) must then name the last row's hash and the number of rows, so rows cut from the end
or a table emptied are noticed too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.audit_chain import GENESIS, row_hash
from persistence.tables import audit_chain, audit_log

BATCH = 5_000


@dataclass(frozen=True, slots=True)
class ChainBreak:
    kind: str  # AUDIT_ROW_ALTERED, AUDIT_CHAIN_BROKEN or AUDIT_HEAD_MISMATCH
    message: str
    row_id: int | None = None


async def check_audit_chain(conn: AsyncConnection) -> tuple[int, ChainBreak | None]:
    """(rows read, the first break or None)."""
    prev, after_id, rows = GENESIS, 0, 0
    while True:
        batch = (
            await conn.execute(
                select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(BATCH)
            )
        ).all()
        if not batch:
            break
        for row in batch:
            rows += 1
            if row.prev_hash != prev:
                return rows, ChainBreak(
                    "AUDIT_CHAIN_BROKEN",
                    f"audit row {row.id} does not follow the row before it: a row was removed, "
                    "inserted or reordered before it",
                    row.id,
                )
            if row_hash(prev, dict(row._mapping)) != row.hash:
                return rows, ChainBreak(
                    "AUDIT_ROW_ALTERED",
                    f"audit row {row.id} was altered: its content no longer gives its hash",
                    row.id,
                )
            prev = row.hash
        after_id = batch[-1].id
    head = (await conn.execute(select(audit_chain.c.last_hash, audit_chain.c.length))).first()
    if head is None:
        return rows, ChainBreak("AUDIT_HEAD_MISMATCH", "the audit chain's head row is missing")
    if head.last_hash != prev or head.length != rows:
        return rows, ChainBreak(
            "AUDIT_HEAD_MISMATCH",
            f"the audit chain's head names {head.length} rows ending in {head.last_hash[:12]}..., the log "
            f"holds {rows} ending in {prev[:12]}...: rows were removed from its end",
        )
    return rows, None
