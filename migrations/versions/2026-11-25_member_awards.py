"""member awards

Revision ID: 7e3f9a1c4d25
Revises: 5d2b8e61c0a3
Create Date: 2026-11-25 11:25:00+00:00

Bonuses an offer gives a member outside its own purchase (sign-up, referral): the origin of their
journal entries. Frozen like every migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3f9a1c4d25"
down_revision: str | Sequence[str] | None = "5d2b8e61c0a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_awards",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("purchase_id", ID, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_awards_member_id_members")
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_member_awards_offer_id_offers")),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_member_awards_purchase_id_purchases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_awards")),
    )
    op.create_index("ix_member_awards_member_id_id", "member_awards", ["member_id", "id"])
    op.create_index(op.f("ix_member_awards_offer_id"), "member_awards", ["offer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_member_awards_offer_id"), table_name="member_awards")
    op.drop_index("ix_member_awards_member_id_id", table_name="member_awards")
    op.drop_table("member_awards")
