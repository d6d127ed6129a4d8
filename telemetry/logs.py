"""Log lines as JSON (one object a line) or as text for a terminal, through structlog; configured by
the entry points (api/main.py, the scripts), never on import, so tests and embedding servers keep
their own logging.

The standard library's loggers (ours, uvicorn's, SQLAlchemy's) go through the same processors as
structlog's: every line gets a UTC timestamp, its level and logger, and the id of the request it was
written in (`request_id`, from a context variable that RequestIdMiddleware sets). No line carries
members' personal data: messages are written without it (api/safe_traceback.py keeps SQL parameters
out of tracebacks), and anything that still looks like an e-mail address or a phone number is
replaced before the line is written, as a last guard.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers (+86 138 0013 8000, +44-20-7946-0000) and runs of 10 to 15 digits, optionally
# spaced, standing alone (13800138000). Dates (2026-11-28) and ids inside hex tokens are left alone.
_PHONE = re.compile(r"\+\d[\d -]{6,}\d|(?<!\w)\d(?: ?\d){9,14}(?!\w)")
_KEEP = frozenset({"timestamp", "level", "logger", "request_id"})
_OURS = "_loyalty_handler"


def add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def scrub_personal_data(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event.items():
        if key not in _KEEP and isinstance(value, str):
            event[key] = scrub(value)
    return event


def configure_logging(
    log_format: str = "text", level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Install the one handler on the root logger (replacing one installed before); returns it."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, _OURS, False)] + [handler]
    root.setLevel(level)
    # uvicorn's loggers write through the root's handler rather than their own.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # /readyz asks alembic for the current revision, which would log two INFO lines per probe.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Undo configure_logging's handler (for tests)."""
    logging.getLogger().removeHandler(handler)
    structlog.reset_defaults()
