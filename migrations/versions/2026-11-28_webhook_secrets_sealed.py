"""webhook secrets sealed

Revision ID: f7b3d0e52a46
Revises: e6a2c9d41f35
Create Date: 2026-11-28 06:30:00+00:00

Signing secrets are now stored sealed with the personal-data keys: a Fernet token is longer than
the secret. Secrets stored in the clear before stay readable and are sealed by
`scripts/rotate-personal-data` (a migration has no keys).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7b3d0e52a46"
down_revision: str | Sequence[str] | None = "e6a2c9d41f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        for column, nullable in (("secret", False), ("previous_secret", True)):
            batch.alter_column(
                column, type_=sa.String(250), existing_type=sa.String(100), existing_nullable=nullable
            )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        for column, nullable in (("secret", False), ("previous_secret", True)):
            batch.alter_column(
                column, type_=sa.String(100), existing_type=sa.String(250), existing_nullable=nullable
            )
