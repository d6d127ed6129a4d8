"""risk control

Revision ID: 9a4c7e2b5d10
Revises: a4c8e1f7b3d2
Create Date: 2026-11-27 21:00:00+00:00

Risk rules (admin settings, with the defaults that stop the cases seen), the counters they read,
the queue of held earnings, and the member's review balance. Frozen like every migration: it does
not import the application, so the default rules are written out here as in domain/risk.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a4c7e2b5d10"
down_revision: str | Sequence[str] | None = "a4c8e1f7b3d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)

DEFAULT_RULES = [
    ("PURCHASE_AMOUNT", "HOLD", 5_000_000, 0, "USD", 0, "A purchase above USD 50,000"),
    ("PURCHASE_AMOUNT", "HOLD", 30_000_000, 0, "CNY", 0, "A purchase above CNY 300,000"),
    ("PURCHASE_AMOUNT", "HOLD", 40_000_000, 0, "HKD", 0, "A purchase above HKD 400,000"),
    ("MERCHANT_DAILY_POINTS", "HOLD", 50_000_000, 0, None, 0, "A merchant's points today"),
    ("MEMBER_VELOCITY", "HOLD", 10, 10, None, 0, "Over 10 purchases in 10 minutes"),
    ("MEMBER_DAILY_POINTS", "HOLD", 500_000, 0, None, 0, "A member's points today"),
    ("ABOVE_OWN_HISTORY", "HOLD", 50, 0, None, 5, "Over 50x the member's average ticket"),
    ("EARN_AND_BURN", "REFUSE", 1_000_000, 30, None, 0, "Redeeming soon after a big earning"),
    ("TRANSFER_FAN_IN", "REFUSE", 10, 0, None, 0, "Points from over 10 members a day"),
]


def upgrade() -> None:
    with op.batch_alter_table("member_balances") as batch:
        batch.add_column(sa.Column("under_review", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_check_constraint(
            op.f("ck_member_balances_under_review_not_negative"), "under_review >= 0"
        )
    rules = op.create_table(
        "risk_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("limit_value", sa.BigInteger(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("min_history", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_rules")),
    )
    op.bulk_insert(
        rules,
        [
            {
                "id": i,
                "kind": kind,
                "action": action,
                "limit_value": limit,
                "window_minutes": window,
                "currency": currency,
                "min_history": min_history,
                "description": description,
            }
            for i, (kind, action, limit, window, currency, min_history, description) in enumerate(
                DEFAULT_RULES, start=1
            )
        ],
    )
    op.create_table(
        "risk_counters",
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.String(8), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner_id", "period", "detail", name=op.f("pk_risk_counters")),
    )
    op.create_table(
        "risk_reviews",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_risk_reviews_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_risk_reviews_purchase_id_purchases")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_risk_reviews_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_reviews")),
        sa.UniqueConstraint("purchase_id", name=op.f("uq_risk_reviews_purchase_id")),
    )
    op.create_index("ix_risk_reviews_status_id", "risk_reviews", ["status", "id"])
    op.create_index("ix_risk_reviews_member_id_id", "risk_reviews", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_risk_reviews_member_id_id", table_name="risk_reviews")
    op.drop_index("ix_risk_reviews_status_id", table_name="risk_reviews")
    op.drop_table("risk_reviews")
    op.drop_table("risk_counters")
    op.drop_table("risk_rules")
    with op.batch_alter_table("member_balances") as batch:
        batch.drop_constraint(op.f("ck_member_balances_under_review_not_negative"), type_="check")
        batch.drop_column("under_review")
