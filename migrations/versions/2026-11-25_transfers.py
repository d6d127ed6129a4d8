"""transfers

Revision ID: 4f8d2c7b1e93
Revises: 2a6c5b9e8f17
Create Date: 2026-11-25 11:45:00+00:00

Points members give each other, and the programme's monthly limit on them. Frozen like every
migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f8d2c7b1e93"
down_revision: str | Sequence[str] | None = "2a6c5b9e8f17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(
            sa.Column("transfer_limit_per_month", sa.BigInteger(), nullable=False, server_default="10000")
        )
    op.create_table(
        "transfers",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("to_member_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_transfers_member_id_members")),
        sa.ForeignKeyConstraint(
            ["to_member_id"], ["members.id"], name=op.f("fk_transfers_to_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index("ix_transfers_member_id_id", "transfers", ["member_id", "id"])
    op.create_index(op.f("ix_transfers_to_member_id"), "transfers", ["to_member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_transfers_to_member_id"), table_name="transfers")
    op.drop_index("ix_transfers_member_id_id", table_name="transfers")
    op.drop_table("transfers")
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("transfer_limit_per_month")
