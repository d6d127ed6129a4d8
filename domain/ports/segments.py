"""Segments: their definitions, their materialised members and sizes, and the profile figures their
rules read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.segments import Rule, RuleContext, Segment, SegmentKind


@dataclass(frozen=True, slots=True)
class RefreshMark:
    """Where the incremental refresh left off, and the day of the last full refresh."""

    last_purchase_id: int
    last_refund_id: int
    full_refresh_on: date | None


class SegmentRepository(Protocol):
    async def add(
        self,
        *,
        name: str,
        description: str | None,
        kind: SegmentKind,
        rule: Rule | None,
        at: datetime,
    ) -> Segment:
        """Store a new ACTIVE segment, version 1; raises AlreadyExists when the name is taken."""
        ...

    async def get(self, segment_id: int, *, lock: bool = False) -> Segment | None: ...

    async def update(self, segment: Segment) -> Segment:
        """Store the segment's name, description, rule, status and version as given; raises
        AlreadyExists when the name is taken."""
        ...

    async def active(self) -> list[Segment]:
        """Every ACTIVE segment defined by rules, by id."""
        ...

    async def refresh_profiles(self, today: date, currency: str, member_ids: Sequence[int] | None) -> int:
        """Recompute the profile figures the rules read from the day counters, for every member
        (None) or for these; how many members were written."""
        ...

    async def refresh_members(
        self, segment_id: int, rule: Rule, ctx: RuleContext, member_ids: Sequence[int] | None
    ) -> int | None:
        """Make the segment's materialised members those the rule matches: among every member
        (None), or only among these (the others keep their membership). Over every member, the
        segment's size now; else None."""
        ...

    async def set_members(self, segment_id: int, member_ids: Sequence[int]) -> None:
        """A static segment's members: exactly these."""
        ...

    async def record_size(self, segment_id: int, day: date, at: datetime, size: int | None = None) -> int:
        """Keep the size (counted when not given) as the segment's size and as the day's; the size."""
        ...

    async def member_ids_by_external_ref(self, refs: Sequence[str]) -> dict[str, int]:
        """The members these externalRefs name (unknown refs are left out)."""
        ...

    async def member_segments(self, member_id: int) -> frozenset[int]:
        """The ACTIVE segments the member belongs to (as materialised)."""
        ...

    async def member_refs(self, segment_id: int, limit: int) -> list[tuple[int, str]]:
        """(member id, externalRef) of the segment's members by member id, at most `limit`."""
        ...

    async def refresh_mark(self) -> RefreshMark: ...

    async def latest_mark(self) -> RefreshMark:
        """The newest purchase and refund ids now (no full refresh day)."""
        ...

    async def set_refresh_mark(self, mark: RefreshMark) -> None: ...

    async def acted_since(self, mark: RefreshMark, limit: int) -> tuple[list[int], RefreshMark]:
        """Members with purchases or refunds after the mark (at most `limit` of each, oldest first),
        and the mark past them."""
        ...
