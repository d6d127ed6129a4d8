"""personal data at rest, and an append-only chained audit log

Revision ID: a4d7c2e9b813
Revises: 6f1d3b8a2c95
Create Date: 2026-11-27 21:00:00+00:00

Members' phone and email become Fernet tokens beside an HMAC-SHA256 lookup hash; existing rows are
encrypted here and the plain columns dropped. The keys come from the caller
(`config.attributes["personal_data_keys"]`: (encryption keys, lookup key), set by
persistence.migrate) or from PERSONAL_DATA_KEYS / PERSONAL_DATA_LOOKUP_KEY; they are needed only when
a member already has contact data.

The audit log gains `member_id`, `prev_hash` and `hash`: existing rows lose any plain phone or email
their JSON held (masked as the API masks them), then are chained in id order; `audit_chain` holds
the head. Triggers refuse UPDATE and DELETE on audit_log, on both databases.

Frozen like every migration: the normalisation, masking and hashing are written out here, as they were
when it was written, and the application is not imported.
"""

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "a4d7c2e9b813"
down_revision: str | Sequence[str] | None = "6f1d3b8a2c95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
UTC_DATETIME = sa.DateTime(timezone=True)

PG_TRIGGERS = (
    """
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
)
PG_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_refuse_change()",
)
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END
    """,
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _keys() -> tuple[list[str], str] | None:
    given = context.config.attributes.get("personal_data_keys")
    if given:
        keys, lookup = given
        return list(keys), lookup
    keys = [k.strip() for k in os.environ.get("PERSONAL_DATA_KEYS", "").split(",") if k.strip()]
    lookup = os.environ.get("PERSONAL_DATA_LOOKUP_KEY", "")
    return (keys, lookup) if keys and lookup else None


def _phone_key(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits) if phone.strip().startswith("+") else digits


def _lookup(key: bytes, kind: bytes, value: str) -> str:
    return hmac.new(key, kind + value.encode(), hashlib.sha256).hexdigest()


def _mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def _mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _masked(v) for k, v in value.items()}
        if isinstance(out.get("phone"), str):
            out["phone"] = _mask_phone(out["phone"])
        if isinstance(out.get("email"), str):
            out["email"] = _mask_email(out["email"])
        return out
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(at: datetime) -> str:
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()


def _encrypt_members() -> None:
    members = sa.table(
        "members",
        sa.column("id", sa.BigInteger()),
        sa.column("phone", sa.String()),
        sa.column("email", sa.String()),
        sa.column("phone_encrypted", sa.Text()),
        sa.column("email_encrypted", sa.Text()),
        sa.column("phone_lookup", sa.String()),
        sa.column("email_lookup", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(members.c.id, members.c.phone, members.c.email).where(
            sa.or_(members.c.phone.is_not(None), members.c.email.is_not(None))
        )
    ).all()
    if not rows:
        return
    keys = _keys()
    if keys is None:
        raise RuntimeError(
            "members hold contact data to encrypt: set PERSONAL_DATA_KEYS and PERSONAL_DATA_LOOKUP_KEY"
        )
    from cryptography.fernet import Fernet, MultiFernet

    fernet = MultiFernet([Fernet(k.encode()) for k in keys[0]])
    lookup_key = keys[1].encode()
    for row in rows:
        bind.execute(
            members.update()
            .where(members.c.id == row.id)
            .values(
                phone_encrypted=None if row.phone is None else fernet.encrypt(row.phone.encode()).decode(),
                email_encrypted=None if row.email is None else fernet.encrypt(row.email.encode()).decode(),
                phone_lookup=None
                if row.phone is None
                else _lookup(lookup_key, b"phone:", _phone_key(row.phone)),
                email_lookup=None
                if row.email is None
                else _lookup(lookup_key, b"email:", row.email.strip().lower()),
            )
        )


def _chain_audit_rows() -> str:
    audit = sa.table(
        "audit_log",
        sa.column("id", sa.BigInteger()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target_type", sa.String()),
        sa.column("target_id", sa.BigInteger()),
        sa.column("member_id", sa.BigInteger()),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
        sa.column("request_id", sa.String()),
        sa.column("created_at", UTC_DATETIME),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    prev = GENESIS
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).all():
        member_id = row.target_id if row.target_type == "Member" else None
        before, after = _masked(row.before), _masked(row.after)
        content = {
            "actor": row.actor,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "member_id": member_id,
            "before": before,
            "after": after,
            "request_id": row.request_id,
            "created_at": _iso(row.created_at),
        }
        digest = hashlib.sha256((prev + _canonical(content)).encode()).hexdigest()
        bind.execute(
            audit.update()
            .where(audit.c.id == row.id)
            .values(member_id=member_id, before=before, after=after, prev_hash=prev, hash=digest)
        )
        prev = digest
    return prev


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("phone_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("email_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone_lookup", sa.String(64), nullable=True))
        batch.add_column(sa.Column("email_lookup", sa.String(64), nullable=True))
    _encrypt_members()
    with op.batch_alter_table("members") as batch:
        batch.drop_column("phone")
        batch.drop_column("email")
        batch.create_index(batch.f("ix_members_phone_lookup"), ["phone_lookup"])
        batch.create_index(batch.f("ix_members_email_lookup"), ["email_lookup"])

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("member_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    head = _chain_audit_rows()
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_audit_log_hash"), ["hash"])
        batch.create_index(batch.f("ix_audit_log_member_id_id"), ["member_id", "id"])
        batch.create_index(batch.f("ix_audit_log_actor_id"), ["actor", "id"])
        batch.create_index(batch.f("ix_audit_log_action_id"), ["action", "id"])
        batch.create_index(batch.f("ix_audit_log_created_at"), ["created_at"])
    length = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.bulk_insert(chain, [{"id": 1, "last_hash": head, "length": length}])
    for statement in SQLITE_TRIGGERS if _is_sqlite() else PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    # The triggers go first: batch mode on SQLite copies the table, which they would refuse.
    for statement in SQLITE_DROP_TRIGGERS if _is_sqlite() else PG_DROP_TRIGGERS:
        op.execute(statement)
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index(batch.f("ix_audit_log_created_at"))
        batch.drop_index(batch.f("ix_audit_log_action_id"))
        batch.drop_index(batch.f("ix_audit_log_actor_id"))
        batch.drop_index(batch.f("ix_audit_log_member_id_id"))
        batch.drop_constraint(batch.f("uq_audit_log_hash"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("member_id")
    # Contact data cannot come back in plain text without the keys: a downgrade leaves it empty.
    with op.batch_alter_table("members") as batch:
        batch.drop_index(batch.f("ix_members_email_lookup"))
        batch.drop_index(batch.f("ix_members_phone_lookup"))
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.drop_column("email_lookup")
        batch.drop_column("phone_lookup")
        batch.drop_column("email_encrypted")
        batch.drop_column("phone_encrypted")
