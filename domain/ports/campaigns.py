"""The reads behind campaignReport's arms: one aggregate query per figure family, and one row per
assigned member for the statistics (domain/experiments/report.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.experiments.report import ArmCost, ArmQuery, Granularity, MemberSpend, SeriesRow


class CampaignArmsReader(Protocol):
    async def assignment_page(
        self, offer_id: int, experiment_id: int, after_member_id: int | None, limit: int
    ) -> list[tuple[int, str, datetime]]:
        """(member id, arm, assigned at) by member id, after `after_member_id`."""
        ...

    async def member_spend(self, query: ArmQuery) -> list[MemberSpend]:
        """One row per member assigned before the period's end: its arm, its spend and purchases in
        the offer's scope in the period, and its spend there in the pre-period."""
        ...

    async def exposed(self, query: ArmQuery) -> dict[str, int]:
        """By arm, the assigned members the offer was listed to in the period."""
        ...

    async def costs(self, query: ArmQuery) -> list[ArmCost]:
        """By arm and funder, what the offer's awards to the arm's members in the period cost."""
        ...

    async def series(self, query: ArmQuery, granularity: Granularity) -> list[SeriesRow]:
        """By arm and UTC day or hour of the period: spend, buyers, and the awards' points and money."""
        ...
