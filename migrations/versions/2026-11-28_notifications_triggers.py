"""notifications and triggered campaigns

Revision ID: d5f1b3a7e920
Revises: c4e8a2f61d07
Create Date: 2026-11-28 03:30:00+00:00

Members' time zones and the programme's notification settings; the notifications record (sent or
suppressed, with the reason); triggers and their firings (unique per trigger and event); the
sign-up nudges; and the reactions consumer's mark on outbox events (existing events count as
handled, so no notice goes out for what happened before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5f1b3a7e920"
down_revision: str | Sequence[str] | None = "c4e8a2f61d07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("expiry_notice_days", sa.Integer(), nullable=False, server_default="7"))
        batch.add_column(sa.Column("marketing_per_week", sa.Integer(), nullable=False, server_default="3"))
        batch.add_column(sa.Column("quiet_hours_start", sa.String(5), nullable=False, server_default="22:00"))
        batch.add_column(sa.Column("quiet_hours_end", sa.String(5), nullable=False, server_default="08:00"))
        batch.add_column(sa.Column("sign_up_nudge_days", sa.Integer(), nullable=False, server_default="14"))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("reacted", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    op.execute("UPDATE outbox_events SET reacted = true")
    op.create_index(
        "ix_outbox_events_unreacted",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text("NOT reacted"),
        sqlite_where=sa.text("NOT reacted"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(10), nullable=False),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("suppressed_reason", sa.String(20), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notifications_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index("ix_notifications_member_sent", "notifications", ["member_id", "category", "created_at"])
    op.create_table(
        "triggers",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triggers")),
    )
    op.create_index("ix_triggers_event_type", "triggers", ["event_type"])
    op.create_table(
        "trigger_firings",
        sa.Column("id", ID, nullable=False),
        sa.Column("trigger_id", ID, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["trigger_id"], ["triggers.id"], name=op.f("fk_trigger_firings_trigger_id_triggers")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_trigger_firings_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_firings")),
        sa.UniqueConstraint("trigger_id", "event_id", name=op.f("uq_trigger_firings_trigger_id")),
    )
    op.create_table(
        "member_nudges",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_nudges_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_nudges")),
    )


def downgrade() -> None:
    op.drop_table("member_nudges")
    op.drop_table("trigger_firings")
    op.drop_index("ix_triggers_event_type", table_name="triggers")
    op.drop_table("triggers")
    op.drop_index("ix_notifications_member_sent", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_outbox_events_unreacted", table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("reacted")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("programme") as batch:
        for column in (
            "sign_up_nudge_days",
            "quiet_hours_end",
            "quiet_hours_start",
            "marketing_per_week",
            "expiry_notice_days",
        ):
            batch.drop_column(column)
