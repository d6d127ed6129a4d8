"""offer guards

Revision ID: 5c2e8a917d04
Revises: b7d3f19a6c42
Create Date: 2026-11-28 03:00:00+00:00

Guard rules on offers (burn rate, ROI), each fired at most once: the `guards` job pauses the offer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e8a917d04"
down_revision: str | Sequence[str] | None = "b7d3f19a6c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offer_guards",
        sa.Column("id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tolerance_percent", sa.Integer(), nullable=False),
        sa.Column("min_used_percent", sa.Integer(), nullable=False),
        sa.Column("min_participants", sa.BigInteger(), nullable=False),
        sa.Column("min_roi_percent", sa.Integer(), nullable=False),
        sa.Column("fired_at", UTC_DATETIME, nullable=True),
        sa.Column("fired_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_offer_guards_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_guards")),
        sa.UniqueConstraint("offer_id", "kind", name="uq_offer_guards_offer_id_kind"),
    )
    op.create_index(
        "ix_offer_guards_armed",
        "offer_guards",
        ["id"],
        postgresql_where=sa.text("fired_at IS NULL"),
        sqlite_where=sa.text("fired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_offer_guards_armed", table_name="offer_guards")
    op.drop_table("offer_guards")
