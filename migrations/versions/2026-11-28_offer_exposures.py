"""offer exposures

Revision ID: c5a1e7d94b23
Revises: b7d3f19a6c42
Create Date: 2026-11-28 02:30:00+00:00

How often each offer was listed to each member per UTC day (me.recommendedOffers records each
listing), with the first and last listing: what an offer's evaluation counts as exposed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5a1e7d94b23"
down_revision: str | Sequence[str] | None = "b7d3f19a6c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offer_exposures",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("first_at", UTC_DATETIME, nullable=False),
        sa.Column("last_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("offer_id", "member_id", "day", name=op.f("pk_offer_exposures")),
    )


def downgrade() -> None:
    op.drop_table("offer_exposures")
