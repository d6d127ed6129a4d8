"""wallet writes

Revision ID: b7d3f19a6c42
Revises: 3e7b91c4d2a6
Create Date: 2026-11-28 00:00:00+00:00

Vouchers for redeemed rewards (only the code's hash is kept), a member's marketing consent and its
closure (when, and until when its points wait), and the programme's voucher validity and closure
policy.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d3f19a6c42"
down_revision: str | Sequence[str] | None = "3e7b91c4d2a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("voucher_valid_days", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(sa.Column("closure_policy", sa.String(8), nullable=False, server_default="FORFEIT"))
        batch.add_column(sa.Column("closure_grace_days", sa.Integer(), nullable=False, server_default="30"))
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("marketing_consent", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch.add_column(sa.Column("marketing_consent_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("closed_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("points_forfeit_at", UTC_DATETIME, nullable=True))
    op.create_index(
        "ix_members_points_forfeit_at_closed",
        "members",
        ["points_forfeit_at"],
        postgresql_where=sa.text("points_forfeit_at IS NOT NULL"),
        sqlite_where=sa.text("points_forfeit_at IS NOT NULL"),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", ID, nullable=False),
        sa.Column("redemption_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("code_sealed", sa.Text(), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("merchant_id", ID, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["redemption_id"], ["redemptions.id"], name=op.f("fk_vouchers_redemption_id_redemptions")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_vouchers_member_id_members")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_vouchers_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("redemption_id", name=op.f("uq_vouchers_redemption_id")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_vouchers_code_hash")),
    )
    op.create_index(
        "ix_vouchers_expires_at_active",
        "vouchers",
        ["expires_at"],
        postgresql_where=sa.text("status = 'ACTIVE'"),
        sqlite_where=sa.text("status = 'ACTIVE'"),
    )


def downgrade() -> None:
    op.drop_index("ix_vouchers_expires_at_active", table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_index("ix_members_points_forfeit_at_closed", table_name="members")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("points_forfeit_at")
        batch.drop_column("closed_at")
        batch.drop_column("marketing_consent_at")
        batch.drop_column("marketing_consent")
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("closure_grace_days")
        batch.drop_column("closure_policy")
        batch.drop_column("voucher_valid_days")
