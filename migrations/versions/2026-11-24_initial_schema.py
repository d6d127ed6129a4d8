"""initial schema

Revision ID: e8941f45f5f5
Revises:
Create Date: 2026-11-24 12:51:47.834760+00:00

Every table of the first release, and the default programme settings. Frozen: this file does not
import the application, so later changes to persistence/tables.py cannot change what it does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e8941f45f5f5"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timezone-aware on PostgreSQL (timestamptz); naive UTC on SQLite, where the application adds the zone.
UTC_DATETIME = sa.DateTime(timezone=True)

# Drop order: every table before the tables it references.
TABLES = (
    "audit_log",
    "idempotency_keys",
    "lot_draws",
    "points_lots",
    "journal_lines",
    "journal_entries",
    "adjustments",
    "redemptions",
    "purchases",
    "rewards",
    "member_balances",
    "members",
    "merchants",
    "partner_brands",
    "programme_currencies",
    "programme",
)


def upgrade() -> None:
    """Upgrade schema."""
    programme = op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("points_validity_months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
    )
    programme_currencies = op.create_table(
        "programme_currencies",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("points_per_unit", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_programme_currencies")),
    )

    op.create_table(
        "partner_brands",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_brands")),
    )
    op.create_table(
        "merchants",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("partner_id", ID, nullable=True),
        sa.Column("earn_rate_override", sa.String(length=24), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner_brands.id"], name=op.f("fk_merchants_partner_id_partner_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
    )
    op.create_index(op.f("ix_merchants_partner_id"), "merchants", ["partner_id"])

    op.create_table(
        "members",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("referral_code", sa.String(length=16), nullable=False),
        sa.Column("referred_by", ID, nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("income_band", sa.String(length=12), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("enrolled_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_members_external_ref")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_members_referral_code")),
        sa.ForeignKeyConstraint(["referred_by"], ["members.id"], name=op.f("fk_members_referred_by_members")),
    )
    op.create_table(
        "member_balances",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_earned", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_redeemed", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("available >= 0", name=op.f("ck_member_balances_available_not_negative")),
        sa.CheckConstraint("pending >= 0", name=op.f("ck_member_balances_pending_not_negative")),
        sa.CheckConstraint("held >= 0", name=op.f("ck_member_balances_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_balances_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_balances")),
    )

    op.create_table(
        "rewards",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("cost_points", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name=op.f("ck_rewards_stock_not_negative")),
        sa.CheckConstraint("cost_points > 0", name=op.f("ck_rewards_cost_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )

    op.create_table(
        "purchases",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("points_pending", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_purchases_member_id_members")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_purchases_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
    )
    op.create_index(op.f("ix_purchases_member_id_id"), "purchases", ["member_id", "id"])
    op.create_index(op.f("ix_purchases_merchant_id_member_id"), "purchases", ["merchant_id", "member_id"])

    op.create_table(
        "redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("reward_id", ID, nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_redemptions_member_id_members")),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    op.create_index(op.f("ix_redemptions_member_id_id"), "redemptions", ["member_id", "id"])

    op.create_table(
        "adjustments",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_adjustments_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    op.create_index(op.f("ix_adjustments_member_id_id"), "adjustments", ["member_id", "id"])

    op.create_table(
        "journal_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("origin_type", sa.String(length=12), nullable=False),
        sa.Column("origin_id", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_journal_entries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index(op.f("ix_journal_entries_member_id"), "journal_entries", ["member_id"])
    op.create_index(op.f("ix_journal_entries_origin"), "journal_entries", ["origin_type", "origin_id"])

    op.create_table(
        "journal_lines",
        sa.Column("id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("account_kind", sa.String(length=20), nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_journal_lines_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_journal_lines_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_journal_lines_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
    )
    op.create_index(op.f("ix_journal_lines_entry_id"), "journal_lines", ["entry_id"])
    op.create_index(op.f("ix_journal_lines_member_id_id"), "journal_lines", ["member_id", "id"])
    op.create_index(op.f("ix_journal_lines_account"), "journal_lines", ["account_kind", "owner_id"])

    op.create_table(
        "points_lots",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= points", name=op.f("ck_points_lots_remaining_within_points")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_points_lots_member_id_members")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_points_lots_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lots")),
    )
    op.create_index(
        op.f("ix_points_lots_member_id_expires_at"), "points_lots", ["member_id", "expires_at", "id"]
    )

    op.create_table(
        "lot_draws",
        sa.Column("id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("lot_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_lot_draws_points_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_lot_draws_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["points_lots.id"], name=op.f("fk_lot_draws_lot_id_points_lots")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_lot_draws_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_draws")),
    )
    op.create_index(op.f("ix_lot_draws_entry_id"), "lot_draws", ["entry_id"])
    op.create_index(op.f("ix_lot_draws_lot_id"), "lot_draws", ["lot_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target_type", "target_id"])

    # Default programme settings; points per currency unit are Decimals kept exact as text.
    op.bulk_insert(programme, [{"id": 1, "name": "Demo Rewards", "points_validity_months": 24}])
    op.bulk_insert(
        programme_currencies,
        [
            {"currency": "CNY", "points_per_unit": "1"},
            {"currency": "HKD", "points_per_unit": "1"},
            {"currency": "USD", "points_per_unit": "7"},
        ],
    )


def downgrade() -> None:
    """Downgrade schema: drop everything (a table's indexes go with it)."""
    for table in TABLES:
        op.drop_table(table)
