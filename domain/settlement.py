"""Settlement files: the lines a merchant's file holds and what became of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.merchants import Channel
from domain.money import Money


@dataclass(frozen=True, slots=True)
class SettlementLine:
    line_no: int
    reference: str
    member_external_ref: str
    amount: Money
    occurred_at: datetime
    channel: Channel | None


@dataclass(frozen=True, slots=True)
class BadLine:
    line_no: int
    message: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    posted: int
    duplicates: int
    rejected: tuple[BadLine, ...]
    points: int
