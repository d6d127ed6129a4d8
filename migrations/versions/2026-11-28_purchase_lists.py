"""purchase lists

Revision ID: 3e7b91c4d2a6
Revises: 5d2f8b1c7e34
Create Date: 2026-11-28 00:00:00+00:00

Indexes for the lists newest first: a member's purchases and a merchant's purchases and refunds on
(owner, time DESC, id DESC), so a page is one index range however long the history; the merchant's
references; and the admin's member search by tier and by enrolment date. The member's new index also
serves tier qualification's window, so it replaces (member_id, occurred_at).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e7b91c4d2a6"
down_revision: str | Sequence[str] | None = "5d2f8b1c7e34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORIES = [
    ("ix_purchases_member_history", "purchases", "member_id", "occurred_at"),
    ("ix_purchases_merchant_history", "purchases", "merchant_id", "occurred_at"),
    ("ix_refunds_merchant_history", "refunds", "merchant_id", "created_at"),
]
PLAIN = [
    ("ix_purchases_merchant_id_reference", "purchases", ["merchant_id", "reference"]),
    ("ix_refunds_merchant_id_reference", "refunds", ["merchant_id", "reference"]),
    ("ix_members_tier_id_id", "members", ["tier_id", "id"]),
    ("ix_members_enrolled_at_id", "members", ["enrolled_at", "id"]),
]


def upgrade() -> None:
    for name, table, owner, at in HISTORIES:
        op.create_index(name, table, [owner, sa.text(f"{at} DESC"), sa.text("id DESC")])
    for name, table, columns in PLAIN:
        op.create_index(name, table, columns)
    op.drop_index("ix_purchases_member_id_occurred_at", table_name="purchases")


def downgrade() -> None:
    op.create_index("ix_purchases_member_id_occurred_at", "purchases", ["member_id", "occurred_at"])
    for name, table, _ in reversed(PLAIN):
        op.drop_index(name, table_name=table)
    for name, table, _, _ in reversed(HISTORIES):
        op.drop_index(name, table_name=table)
