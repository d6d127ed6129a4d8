"""outbox partial indexes SQLite can use

Revision ID: a8c4e2f07b13
Revises: f7b3d0e52a46
Create Date: 2026-11-28 12:30:00+00:00

The worker's reads of new and unhandled outbox events are written `NOT dispatched` / `NOT reacted`,
which SQLite renders `dispatched = 0`. SQLite uses a partial index only for a query that repeats its
WHERE term, so on SQLite the two indexes are made again with that term. PostgreSQL's are unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8c4e2f07b13"
down_revision: str | Sequence[str] | None = "f7b3d0e52a46"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("ix_outbox_events_undispatched", "dispatched"), ("ix_outbox_events_unreacted", "reacted"))


def _remake(predicate: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, column in INDEXES:
        op.drop_index(name, table_name="outbox_events")
        op.create_index(name, "outbox_events", ["id"], sqlite_where=sa.text(predicate.format(column)))


def upgrade() -> None:
    _remake("{} = 0")


def downgrade() -> None:
    _remake("NOT {}")
