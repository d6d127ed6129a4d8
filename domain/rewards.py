"""The reward catalogue and redemptions of points for rewards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    name: str
    cost_points: int
    stock: int | None  # None: unlimited
    active: bool
    created_at: datetime


class RedemptionStatus(StrEnum):
    COMPLETED = "COMPLETED"


@dataclass(frozen=True, slots=True)
class Redemption:
    id: int
    member_id: int
    reward_id: int | None
    points: int
    status: RedemptionStatus
    created_at: datetime
