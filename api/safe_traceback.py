"""A traceback fit for the log: every frame, but no text a database error took from the data.

Hiding SQL parameters in SQLAlchemy's messages is not enough: PostgreSQL's DETAIL quotes the row
("Key (email)=(ann@example.com) already exists", "Failing row contains (...)"), asyncpg quotes a
parameter it could not encode, and a bind processor's own error quotes its value. So from the first
database exception of a chain down to its causes, a message is replaced by what names the failure
without quoting data: the exception class, SQLSTATE, constraint, table and column, and the statement.
"""

from __future__ import annotations

import traceback

_DATABASE_PACKAGES = frozenset({"sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "psycopg", "psycopg2"})
# Attributes of SQLAlchemy, asyncpg and sqlite3 errors that name schema objects and codes, never values.
_SAFE_DETAILS = ("sqlstate", "constraint_name", "table_name", "column_name", "sqlite_errorname")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def safe_traceback(exc: BaseException) -> str:
    chain = _chain(exc)  # newest first
    hidden: set[int] = set()
    for position, (link, _) in enumerate(chain):
        if _is_database_error(link):
            hidden.update(id(older) for older, _ in chain[position:])
            break
    parts: list[str] = []
    for link, relation in reversed(chain):
        if link.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(_describe(link, hide_message=id(link) in hidden) + "\n")
        if relation:
            parts.append(relation)
    return "".join(parts).rstrip("\n")


def _chain(exc: BaseException) -> list[tuple[BaseException, str | None]]:
    """Each exception with how it led to the newer one before it in the list, as Python prints it."""
    found: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    relation: str | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found.append((current, relation))
        if current.__cause__ is not None:
            current, relation = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, relation = current.__context__, _CONTEXT
        else:
            current = None
    return found


def _is_database_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DATABASE_PACKAGES


def _describe(exc: BaseException, *, hide_message: bool) -> str:
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    if not hide_message:
        message = str(exc)
        return f"{name}: {message}" if message else name
    details = [f"{attr}={value}" for attr in _SAFE_DETAILS if (value := getattr(exc, attr, None))]
    statement = getattr(exc, "statement", None)
    if isinstance(statement, str):
        details.append(f"[SQL: {statement}]")
    return f"{name}: (message hidden: it may quote data) {' '.join(details)}".rstrip()
