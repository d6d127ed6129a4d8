"""point values and statement indexes

Revision ID: 5d2f8b1c7e34
Revises: 5e1d3b7c9a24
Create Date: 2026-11-28 00:10:00+00:00

What one point is worth per currency (a programme setting statements value points with), and the
indexes a merchant's or partner's statement reads a period through.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2f8b1c7e34"
down_revision: str | Sequence[str] | None = "5e1d3b7c9a24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme_currencies") as batch:
        batch.add_column(sa.Column("point_value", sa.String(length=24), nullable=True))
    op.create_index("ix_purchases_merchant_id_created_at", "purchases", ["merchant_id", "created_at"])
    op.create_index("ix_refunds_merchant_id_created_at", "refunds", ["merchant_id", "created_at"])
    op.create_index("ix_refunds_created_at", "refunds", ["created_at"])
    op.create_index("ix_redemptions_merchant_id_finalized_at", "redemptions", ["merchant_id", "finalized_at"])
    op.create_index("ix_purchase_awards_created_at", "purchase_awards", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_purchase_awards_created_at", table_name="purchase_awards")
    op.drop_index("ix_redemptions_merchant_id_finalized_at", table_name="redemptions")
    op.drop_index("ix_refunds_created_at", table_name="refunds")
    op.drop_index("ix_refunds_merchant_id_created_at", table_name="refunds")
    op.drop_index("ix_purchases_merchant_id_created_at", table_name="purchases")
    with op.batch_alter_table("programme_currencies") as batch:
        batch.drop_column("point_value")
