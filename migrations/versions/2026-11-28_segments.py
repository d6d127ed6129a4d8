"""segments: saved definitions, materialised membership, sizes by day, profile figures

Revision ID: 5d2a8c4e7b19
Revises: 3b7e5d1c9f42
Create Date: 2026-11-28 01:00:00+00:00

Segments of members by rules or by list, their members as the refresh job last found them, their size
per day, and the profile figures their rules read (filled by the first refresh). Frozen like every
migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2a8c4e7b19"
down_revision: str | Sequence[str] | None = "3b7e5d1c9f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members"))


def upgrade() -> None:
    op.create_table(
        "member_profiles",
        sa.Column("member_id", ID, nullable=False),
        *(sa.Column(f"purchases_{d}", sa.Integer(), nullable=False) for d in (30, 90, 365)),
        *(sa.Column(f"spend_{d}", sa.BigInteger(), nullable=False) for d in (30, 90, 365)),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("idle_since", sa.Date(), nullable=False),
        sa.Column("refreshed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_profiles")),
    )
    op.create_table(
        "member_category_profiles",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("purchases_90", sa.Integer(), nullable=False),
        sa.Column("spend_365", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "category", name=op.f("pk_member_category_profiles")),
    )
    op.create_table(
        "segments",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refreshed_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_members_segment_id_segments")
        ),
        _member_fk("segment_members"),
        sa.PrimaryKeyConstraint("segment_id", "member_id", name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_member_id", "segment_members", ["member_id"])
    op.create_table(
        "segment_sizes",
        sa.Column("segment_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_sizes_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("segment_id", "day", name=op.f("pk_segment_sizes")),
    )
    op.create_table(
        "segment_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_purchase_id", sa.BigInteger(), nullable=False),
        sa.Column("last_refund_id", sa.BigInteger(), nullable=False),
        sa.Column("full_refresh_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_refresh")),
    )


def downgrade() -> None:
    for table in (
        "segment_refresh",
        "segment_sizes",
        "segment_members",
        "segments",
        "member_category_profiles",
        "member_profiles",
    ):
        op.drop_table(table)
