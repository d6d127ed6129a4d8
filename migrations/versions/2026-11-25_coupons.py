"""coupons

Revision ID: 5d2b8e61c0a3
Revises: 9c4e1f7a2b68
Create Date: 2026-11-25 11:05:00+00:00

Coupon codes for coupon-only offers. Frozen like every migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2b8e61c0a3"
down_revision: str | Sequence[str] | None = "9c4e1f7a2b68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("claimed_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name=op.f("ck_coupons_uses_within_limit")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_coupons_offer_id_offers")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_coupons_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_index("ix_coupons_member_id", "coupons", ["member_id"])
    op.create_index(op.f("ix_coupons_offer_id"), "coupons", ["offer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_coupons_offer_id"), table_name="coupons")
    op.drop_index("ix_coupons_member_id", table_name="coupons")
    op.drop_table("coupons")
