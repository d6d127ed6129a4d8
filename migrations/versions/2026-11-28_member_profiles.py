"""member profiles: day counters and lifecycle rules

Revision ID: 3b7e5d1c9f42
Revises: 9a4c7e2b5d10
Create Date: 2026-11-28 00:30:00+00:00

Each member's purchases and spend per UTC day, merchant, channel and currency, net of refunds (see
domain/profiles.py), filled from the purchases of the last 400 days (its retention); and the
lifecycle thresholds, one row with the defaults. Frozen like every migration: it does not import
the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7e5d1c9f42"
down_revision: str | Sequence[str] | None = "9a4c7e2b5d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_activity_days",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("spend_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "member_id", "day", "merchant_id", "channel", "currency", name=op.f("pk_member_activity_days")
        ),
    )
    op.create_table(
        "lifecycle_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("new_member_days", sa.Integer(), nullable=False),
        sa.Column("at_risk_after_days", sa.Integer(), nullable=False),
        sa.Column("dormant_after_days", sa.Integer(), nullable=False),
        sa.Column("churned_after_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_rules")),
    )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO lifecycle_rules (id, new_member_days, at_risk_after_days, dormant_after_days,"
            " churned_after_days) VALUES (1, 30, 60, 120, 365)"
        )
    )
    day = (
        "date(occurred_at)"
        if bind.dialect.name == "sqlite"
        else "CAST(occurred_at AT TIME ZONE 'UTC' AS DATE)"
    )
    since = "date('now', '-400 days')" if bind.dialect.name == "sqlite" else "CURRENT_DATE - 400"
    bind.execute(
        sa.text(
            "INSERT INTO member_activity_days"
            " (member_id, day, merchant_id, channel, currency, purchases, spend_minor)"
            f" SELECT member_id, {day}, merchant_id, channel, currency,"
            " SUM(CASE WHEN refunded_minor < amount_minor THEN 1 ELSE 0 END),"
            " SUM(amount_minor - refunded_minor)"
            f" FROM purchases WHERE {day} >= {since}"
            f" GROUP BY member_id, {day}, merchant_id, channel, currency"
        )
    )


def downgrade() -> None:
    op.drop_table("lifecycle_rules")
    op.drop_table("member_activity_days")
