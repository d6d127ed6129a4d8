"""pending points

Revision ID: 8b1e6d4a9c52
Revises: 4f8d2c7b1e93
Create Date: 2026-11-25 11:50:00+00:00

A return window in which a purchase's points stay pending, and when each purchase's mature. Frozen
like every migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b1e6d4a9c52"
down_revision: str | Sequence[str] | None = "4f8d2c7b1e93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("pending_days", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("matures_at", UTC_DATETIME, nullable=True))
    op.create_index(
        "ix_purchases_matures_at_pending",
        "purchases",
        ["matures_at"],
        postgresql_where=sa.text("points_pending > 0"),
        sqlite_where=sa.text("points_pending > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_purchases_matures_at_pending", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("matures_at")
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("pending_days")
