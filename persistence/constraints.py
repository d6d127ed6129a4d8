"""Which constraint an IntegrityError broke, read the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Column
from sqlalchemy.exc import IntegrityError


def is_unique_violation(error: IntegrityError, column: Column[object]) -> bool:
    """True when `error` is the unique constraint on `column`: PostgreSQL names the constraint
    (`uq_<table>_<column>`, tables.py's naming convention), SQLite the `<table>.<column>`."""
    message = str(error.orig)
    table = column.table.name
    return (
        f"uq_{table}_{column.name}" in message
        or f"UNIQUE constraint failed: {table}.{column.name}" in message
    )
