"""security events

Revision ID: 6f1d3b8a2c95
Revises: c3a7d9e2f1b4
Create Date: 2026-11-27 18:00:00+00:00

What the API refused for the caller's own protection (a lockout after too many wrong codes), with
the caller's role and token subject and its address, for admins to review. Frozen like every
migration: it does not import the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f1d3b8a2c95"
down_revision: str | Sequence[str] | None = "c3a7d9e2f1b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("secret", sa.String(40), nullable=True),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )


def downgrade() -> None:
    op.drop_table("security_events")
