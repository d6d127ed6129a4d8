"""experiment assignments

Revision ID: 5c2e8a7d41f9
Revises: c5a1e7d94b23, 5c2e8a917d04
Create Date: 2026-11-28 02:45:00+00:00

Members' arms in offers' experiments (variants and holdout), recorded the first time each member is
evaluated for the offer. The experiments themselves live in the offer's definition (JSON).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e8a7d41f9"
# Also where the exposures (c5a1e7d94b23) and the guards (5c2e8a917d04), both after b7d3f19a6c42, meet.
down_revision: str | Sequence[str] | None = ("c5a1e7d94b23", "5c2e8a917d04")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "experiment_assignments",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("arm", sa.String(40), nullable=False),
        sa.Column("assigned_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint(
            "offer_id", "experiment_id", "member_id", name=op.f("pk_experiment_assignments")
        ),
    )


def downgrade() -> None:
    op.drop_table("experiment_assignments")
