"""catalogue version

Revision ID: 3b7c2a9d1e40
Revises: e8941f45f5f5
Create Date: 2026-11-25 10:05:00+00:00

A counter on the programme row that every change to the programme's settings or its merchants
increments, in the same transaction. Server processes cache those settings and re-read them only
when the counter moves, so a purchase no longer reads them on every request.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7c2a9d1e40"
down_revision: str | Sequence[str] | None = "e8941f45f5f5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("catalogue_version", sa.BigInteger(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("catalogue_version")
