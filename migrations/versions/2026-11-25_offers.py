"""offers

Revision ID: 9c4e1f7a2b68
Revises: 3b7c2a9d1e40
Create Date: 2026-11-25 11:00:00+00:00

Offers with their versions, funders, and the counters their budgets and member caps are claimed
against; what each offer gave each purchase, and who paid for it. Frozen like every migration: it
does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e1f7a2b68"
down_revision: str | Sequence[str] | None = "3b7c2a9d1e40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("mechanic", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("budget_points", sa.BigInteger(), nullable=True),
        sa.Column("budget_money_minor", sa.BigInteger(), nullable=True),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("points_used", sa.BigInteger(), nullable=False),
        sa.Column("money_used_minor", sa.BigInteger(), nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "budget_points IS NULL OR points_used <= budget_points",
            name=op.f("ck_offers_points_within_budget"),
        ),
        sa.CheckConstraint(
            "budget_money_minor IS NULL OR money_used_minor <= budget_money_minor",
            name=op.f("ck_offers_money_within_budget"),
        ),
        sa.CheckConstraint("max_uses IS NULL OR uses <= max_uses", name=op.f("ck_offers_uses_within_limit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_table(
        "offer_versions",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_offer_versions_offer_id_offers")),
        sa.PrimaryKeyConstraint("offer_id", "version", name=op.f("pk_offer_versions")),
    )
    op.create_table(
        "offer_funders",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("funder_kind", sa.String(length=10), nullable=False),
        sa.Column("funder_id", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_offer_funders_offer_id_offers")),
        sa.PrimaryKeyConstraint("offer_id", "funder_kind", "funder_id", name=op.f("pk_offer_funders")),
    )
    op.create_index("ix_offer_funders_funder", "offer_funders", ["funder_kind", "funder_id"])
    op.create_table(
        "offer_member_usage",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("period_start", UTC_DATETIME, nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_member_usage_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_offer_member_usage_member_id_members")
        ),
        sa.PrimaryKeyConstraint("offer_id", "member_id", "period_start", name=op.f("pk_offer_member_usage")),
    )

    op.create_table(
        "purchase_awards",
        sa.Column("id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("mechanic", sa.String(length=24), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("cashback_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_purchase_awards_purchase_id_purchases")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_purchase_awards_member_id_members")
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_purchase_awards_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_awards")),
    )
    op.create_index("ix_purchase_awards_offer_id", "purchase_awards", ["offer_id"])
    op.create_index(op.f("ix_purchase_awards_purchase_id"), "purchase_awards", ["purchase_id"])
    op.create_table(
        "award_funding",
        sa.Column("award_id", ID, nullable=False),
        sa.Column("funder_kind", sa.String(length=10), nullable=False),
        sa.Column("funder_id", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("money_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["purchase_awards.id"], name=op.f("fk_award_funding_award_id_purchase_awards")
        ),
        sa.PrimaryKeyConstraint("award_id", "funder_kind", "funder_id", name=op.f("pk_award_funding")),
    )
    op.create_index("ix_award_funding_funder", "award_funding", ["funder_kind", "funder_id"])


def downgrade() -> None:
    op.drop_index("ix_award_funding_funder", table_name="award_funding")
    op.drop_table("award_funding")
    op.drop_index(op.f("ix_purchase_awards_purchase_id"), table_name="purchase_awards")
    op.drop_index("ix_purchase_awards_offer_id", table_name="purchase_awards")
    op.drop_table("purchase_awards")
    op.drop_table("offer_member_usage")
    op.drop_index("ix_offer_funders_funder", table_name="offer_funders")
    op.drop_table("offer_funders")
    op.drop_table("offer_versions")
    op.drop_table("offers")
