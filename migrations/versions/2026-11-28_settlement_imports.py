"""settlement imports

Revision ID: 5e1d3b7c9a24
Revises: 5d2a8c4e7b19
Create Date: 2026-11-28 00:00:00+00:00

Settlement files merchants upload through the API, kept as sent until a worker has posted them,
with their progress and the lines that were not posted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1d3b7c9a24"
down_revision: str | Sequence[str] | None = "5d2a8c4e7b19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "settlement_imports",
        sa.Column("id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("format", sa.String(5), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_lines", sa.BigInteger(), nullable=False),
        sa.Column("cursor_line", sa.BigInteger(), nullable=False),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("posted", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("worker", sa.String(40), nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_settlement_imports_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_imports")),
    )
    op.create_index("ix_settlement_imports_status_id", "settlement_imports", ["status", "id"])
    op.create_table(
        "settlement_import_errors",
        sa.Column("import_id", ID, nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["settlement_imports.id"],
            name=op.f("fk_settlement_import_errors_import_id_settlement_imports"),
        ),
        sa.PrimaryKeyConstraint("import_id", "line_no", name=op.f("pk_settlement_import_errors")),
    )


def downgrade() -> None:
    op.drop_table("settlement_import_errors")
    op.drop_index("ix_settlement_imports_status_id", table_name="settlement_imports")
    op.drop_table("settlement_imports")
