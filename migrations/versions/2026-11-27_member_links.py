"""member links and presented codes

Revision ID: a4c8e1f7b3d2
Revises: a4d7c2e9b813
Create Date: 2026-11-27 20:30:00+00:00

A merchant acts for a member only when the member presented itself: a one-time code now serves the
earning of its checkout too (`earned_at`, beside `used_at` for the payment), and a member's standing
link to a merchant gives the merchant its own reference for the member. Every merchant-member pair
that already has purchases is linked, so merchants keep serving the members they serve. Frozen like
every migration: it does not import the application.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c8e1f7b3d2"
down_revision: str | Sequence[str] | None = "a4d7c2e9b813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)
# domain/member_links.py as of this revision
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_ref() -> str:
    return "MR" + "".join(secrets.choice(REF_ALPHABET) for _ in range(20))


def upgrade() -> None:
    with op.batch_alter_table("redemption_codes") as batch:
        batch.add_column(sa.Column("earned_at", UTC_DATETIME, nullable=True))
    op.create_table(
        "member_links",
        sa.Column("id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("member_ref", sa.String(32), nullable=False),
        sa.Column("linked_at", UTC_DATETIME, nullable=False),
        sa.Column("unlinked_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_member_links_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_links_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_links")),
        sa.UniqueConstraint("member_ref", name=op.f("uq_member_links_member_ref")),
        sa.UniqueConstraint("merchant_id", "member_id", name=op.f("uq_member_links_merchant_id")),
    )
    op.create_index(op.f("ix_member_links_member_id"), "member_links", ["member_id"])
    pairs = op.get_bind().execute(
        sa.text(
            "SELECT merchant_id, member_id, MIN(created_at) AS first FROM purchases"
            " GROUP BY merchant_id, member_id ORDER BY merchant_id, member_id"
        )
    )
    rows = [
        {
            "merchant_id": p.merchant_id,
            "member_id": p.member_id,
            "member_ref": _new_ref(),
            "linked_at": p.first,
        }
        for p in pairs
    ]
    if rows:  # as the database gave the times back: raw SQL both ways, so no type converts them
        op.get_bind().execute(
            sa.text(
                "INSERT INTO member_links (merchant_id, member_id, member_ref, linked_at)"
                " VALUES (:merchant_id, :member_id, :member_ref, :linked_at)"
            ),
            rows,
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_member_links_member_id"), table_name="member_links")
    op.drop_table("member_links")
    with op.batch_alter_table("redemption_codes") as batch:
        batch.drop_column("earned_at")
