"""expirations

Revision ID: 2a6c5b9e8f17
Revises: 7e3f9a1c4d25
Create Date: 2026-11-25 11:40:00+00:00

Points a member lost to expiry at one time: the origin of EXPIRE journal entries. Frozen like every
migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2a6c5b9e8f17"
down_revision: str | Sequence[str] | None = "7e3f9a1c4d25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "expirations",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_expirations_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expirations")),
    )
    op.create_index("ix_expirations_member_id_id", "expirations", ["member_id", "id"])
    # The expiry job looks for lots past their date with points left.
    op.create_index(
        "ix_points_lots_expires_at_remaining",
        "points_lots",
        ["expires_at"],
        postgresql_where=sa.text("remaining > 0"),
        sqlite_where=sa.text("remaining > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_points_lots_expires_at_remaining", table_name="points_lots")
    op.drop_index("ix_expirations_member_id_id", table_name="expirations")
    op.drop_table("expirations")
