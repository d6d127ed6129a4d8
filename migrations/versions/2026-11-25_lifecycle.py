"""points lifecycle and tiers

Revision ID: c3a7d9e2f1b4
Revises: 8b1e6d4a9c52
Create Date: 2026-11-25 12:10:00+00:00

Refunds and points debt, two-phase POS redemptions with one-time member codes, reward fulfilment
and limits, tiers with their history, dormancy, end-of-period expiry and a per-merchant return
window. Frozen like every migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a7d9e2f1b4"
down_revision: str | Sequence[str] | None = "8b1e6d4a9c52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", ID, nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(
            sa.Column("expiry_policy", sa.String(16), nullable=False, server_default="FIXED_MONTHS")
        )
        batch.add_column(sa.Column("hold_minutes", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(sa.Column("dormant_after_days", sa.Integer(), nullable=False, server_default="365"))
        batch.add_column(sa.Column("tier_window_months", sa.Integer(), nullable=False, server_default="12"))
        batch.add_column(sa.Column("tier_grace_days", sa.Integer(), nullable=False, server_default="30"))
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("pending_days", sa.Integer(), nullable=True))

    op.create_table(
        "tiers",
        _id(),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("min_points", sa.BigInteger(), nullable=True),
        sa.Column("min_spend_minor", sa.BigInteger(), nullable=True),
        sa.Column("spend_currency", sa.String(3), nullable=True),
        sa.Column("earn_multiplier", sa.String(12), nullable=False, server_default="1"),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiers")),
        sa.UniqueConstraint("code", name=op.f("uq_tiers_code")),
        sa.UniqueConstraint("rank", name=op.f("uq_tiers_rank")),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("tier_id", ID, nullable=True))
        batch.add_column(sa.Column("tier_since", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("tier_grace_until", UTC_DATETIME, nullable=True))
        batch.create_foreign_key(op.f("fk_members_tier_id_tiers"), "tiers", ["tier_id"], ["id"])
    op.create_table(
        "tier_changes",
        _id(),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("from_tier_id", ID, nullable=True),
        sa.Column("to_tier_id", ID, nullable=True),
        sa.Column("reason", sa.String(12), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("qualifying_spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_tier_changes_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["from_tier_id"], ["tiers.id"], name=op.f("fk_tier_changes_from_tier_id_tiers")
        ),
        sa.ForeignKeyConstraint(["to_tier_id"], ["tiers.id"], name=op.f("fk_tier_changes_to_tier_id_tiers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_changes")),
    )
    op.create_index("ix_tier_changes_member_id_id", "tier_changes", ["member_id", "id"])

    with op.batch_alter_table("member_balances") as batch:
        batch.add_column(sa.Column("debt", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_activity_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("dormant_since", UTC_DATETIME, nullable=True))
        batch.create_check_constraint(op.f("ck_member_balances_debt_not_negative"), "debt >= 0")
    op.execute(
        "UPDATE member_balances SET last_activity_at = "
        "(SELECT enrolled_at FROM members WHERE members.id = member_balances.member_id)"
    )
    op.create_index(
        "ix_member_balances_last_activity_at_awake",
        "member_balances",
        ["last_activity_at"],
        postgresql_where=sa.text("dormant_since IS NULL"),
        sqlite_where=sa.text("dormant_since IS NULL"),
    )

    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("refunded_minor", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("points_refunded", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("coupon_id", ID, nullable=True))
        batch.create_foreign_key(op.f("fk_purchases_coupon_id_coupons"), "coupons", ["coupon_id"], ["id"])
        batch.create_check_constraint(
            op.f("ck_purchases_refund_within_amount"), "refunded_minor <= amount_minor"
        )
        batch.create_check_constraint(
            op.f("ck_purchases_points_refund_within_earned"), "points_refunded <= points_earned"
        )
    op.create_index("ix_purchases_member_id_occurred_at", "purchases", ["member_id", "occurred_at"])

    op.create_table(
        "refunds",
        _id(),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("debt_created", sa.BigInteger(), nullable=False),
        sa.Column("points_returned", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_refunds_member_id_members")),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_refunds_purchase_id_purchases")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_refunds_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_purchase_id"), "refunds", ["purchase_id"])
    op.create_index("ix_refunds_member_id_id", "refunds", ["member_id", "id"])

    with op.batch_alter_table("purchase_awards") as batch:
        batch.add_column(sa.Column("refunded_points", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("refunded_money_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("use_returned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("cap_period_start", UTC_DATETIME, nullable=True))

    with op.batch_alter_table("rewards") as batch:
        batch.add_column(sa.Column("per_member_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("limit_period", sa.String(8), nullable=True))
        batch.add_column(sa.Column("tier_ids", sa.JSON(), nullable=True))

    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="REWARD"))
        batch.add_column(sa.Column("merchant_id", ID, nullable=True))
        batch.add_column(sa.Column("captured_points", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("hold_expires_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("purchase_id", ID, nullable=True))
        batch.add_column(sa.Column("points_returned", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("finalized_at", UTC_DATETIME, nullable=True))
        batch.create_foreign_key(
            op.f("fk_redemptions_merchant_id_merchants"), "merchants", ["merchant_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_redemptions_purchase_id_purchases"), "purchases", ["purchase_id"], ["id"]
        )
    op.execute("UPDATE redemptions SET status = 'FULFILLED' WHERE status = 'COMPLETED'")
    op.create_index(
        "ix_redemptions_hold_expires_at_authorized",
        "redemptions",
        ["hold_expires_at"],
        postgresql_where=sa.text("status = 'AUTHORIZED'"),
        sqlite_where=sa.text("status = 'AUTHORIZED'"),
    )
    op.create_index(op.f("ix_redemptions_purchase_id"), "redemptions", ["purchase_id"])

    op.create_table(
        "redemption_codes",
        _id(),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_redemption_codes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_redemption_codes_code_hash")),
    )
    op.create_index(op.f("ix_redemption_codes_member_id"), "redemption_codes", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_redemption_codes_member_id"), table_name="redemption_codes")
    op.drop_table("redemption_codes")
    op.drop_index(op.f("ix_redemptions_purchase_id"), table_name="redemptions")
    op.drop_index("ix_redemptions_hold_expires_at_authorized", table_name="redemptions")
    op.execute("UPDATE redemptions SET status = 'COMPLETED' WHERE status <> 'COMPLETED'")
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_constraint(op.f("fk_redemptions_purchase_id_purchases"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_redemptions_merchant_id_merchants"), type_="foreignkey")
        for column in (
            "finalized_at",
            "points_returned",
            "purchase_id",
            "hold_expires_at",
            "captured_points",
            "merchant_id",
            "kind",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("rewards") as batch:
        for column in ("tier_ids", "limit_period", "per_member_limit"):
            batch.drop_column(column)
    with op.batch_alter_table("purchase_awards") as batch:
        for column in ("cap_period_start", "use_returned", "refunded_money_minor", "refunded_points"):
            batch.drop_column(column)
    op.drop_index("ix_refunds_member_id_id", table_name="refunds")
    op.drop_index(op.f("ix_refunds_purchase_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_purchases_member_id_occurred_at", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_constraint(op.f("ck_purchases_points_refund_within_earned"), type_="check")
        batch.drop_constraint(op.f("ck_purchases_refund_within_amount"), type_="check")
        batch.drop_constraint(op.f("fk_purchases_coupon_id_coupons"), type_="foreignkey")
        for column in ("coupon_id", "points_refunded", "refunded_minor"):
            batch.drop_column(column)
    op.drop_index("ix_member_balances_last_activity_at_awake", table_name="member_balances")
    with op.batch_alter_table("member_balances") as batch:
        batch.drop_constraint(op.f("ck_member_balances_debt_not_negative"), type_="check")
        for column in ("dormant_since", "last_activity_at", "debt"):
            batch.drop_column(column)
    op.drop_index("ix_tier_changes_member_id_id", table_name="tier_changes")
    op.drop_table("tier_changes")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("fk_members_tier_id_tiers"), type_="foreignkey")
        for column in ("tier_grace_until", "tier_since", "tier_id"):
            batch.drop_column(column)
    op.drop_table("tiers")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("pending_days")
    with op.batch_alter_table("programme") as batch:
        for column in (
            "tier_grace_days",
            "tier_window_months",
            "dormant_after_days",
            "hold_minutes",
            "expiry_policy",
        ):
            batch.drop_column(column)
