"""Settlement files a merchant sends through the API: stored as sent, then posted in the background.

An import is QUEUED when stored, RUNNING while a worker holds its lease, and DONE or FAILED at the
end. Its progress is a cursor (the last physical line posted) that moves in the same transaction as
the purchases each batch posts, so a worker that dies mid-file leaves a cursor that is exactly true:
the next worker re-reads the file and goes on after it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from domain.settlement import BadLine, SettlementLine, parse_settlement

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")


class ImportStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class SettlementImport:
    """An import as the merchant reads it."""

    id: int
    merchant_id: int
    status: ImportStatus
    format: Format
    size_bytes: int
    total_lines: int  # data lines in the file, good and bad (not the header or blank lines)
    lines_done: int
    posted: int
    duplicates: int
    rejected: int
    points: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    failure: str | None  # why a FAILED import stopped


@dataclass(frozen=True, slots=True)
class ClaimedImport:
    """What a worker needs to go on with an import it holds the lease of."""

    id: int
    merchant_id: int
    format: Format
    content: bytes
    cursor: int  # the last physical line already posted (0: none)


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """One batch's part of an import, added to its totals when the batch commits."""

    cursor: int
    lines: int
    posted: int
    duplicates: int
    points: int
    errors: tuple[BadLine, ...]


def read_lines(content: bytes, fmt: Format) -> Iterator[SettlementLine | BadLine]:
    """The file's data lines in order, as the command reads a file: an undecodable byte spoils only
    its field (the parser reports it), and a spreadsheet's byte-order mark is dropped. Raises
    ValueError when a CSV header lacks a column."""
    text = content.decode("utf-8-sig", errors="surrogateescape")
    return parse_settlement(io.StringIO(text, newline=""), fmt=fmt)


def count_lines(content: bytes, fmt: Format) -> int:
    """The data lines, for the progress total; ValueError as `read_lines`."""
    return sum(1 for _ in read_lines(content, fmt))
