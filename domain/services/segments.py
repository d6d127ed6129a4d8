"""Segments: defined and changed by admins (audited), their membership materialised by the refresh job.

The job (`scripts/jobs segments`) refreshes in one of two ways:
- full, once a day (the first run of a UTC day): every member's profile figures from its day counters,
  then every ACTIVE rule segment's members, then each segment's size for the day. Windows roll with
  the day, so a member who did nothing may still enter or leave a segment: only a full refresh sees
  that.
- incremental, every other run: only the members who bought or were refunded since the last run (by
  purchase and refund id, a batch at a time), re-read and re-matched; the others keep their membership.
  Run it every minute or so and segments follow what members do within that minute.
Either way the result for a member is what a full refresh at that moment would give it (tested).
A segment created or changed is matched at once against the figures of the last refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from domain import validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import NotFound, Validation
from domain.ports import UnitOfWork
from domain.profiles import profile_currency, utc_day
from domain.segments import Rule, RuleContext, Segment, SegmentKind, SegmentStatus, validated
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.tiers import entry_tier

BATCH = 5_000
MAX_LIST = 100_000  # externalRefs in one static segment's list
MAX_EXPORT = 100_000  # members in one CSV export


@dataclass(frozen=True, slots=True)
class CreateSegment:
    name: str
    description: str | None = None
    rule: Rule | None = None  # a segment by rules, or
    external_refs: tuple[str, ...] | None = None  # a static segment of these members


@dataclass(frozen=True, slots=True)
class UpdateSegment:
    segment_id: int
    name: str | None = None  # None: unchanged
    description: str | None = None
    rule: Rule | None = None  # rule segments only


@dataclass(frozen=True, slots=True)
class SegmentRefresh:
    full: bool
    members: int  # whose figures were re-read
    segments: int


async def rule_context(uow: UnitOfWork, today: date) -> RuleContext:
    entry = entry_tier(await uow.tiers.ladder())
    return RuleContext(today, await uow.profiles.lifecycle_rules(), "" if entry is None else entry.code)


async def create_segment(cmd: CreateSegment, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Segment:
    require_role(actor, Role.ADMIN)
    name = validation.text(cmd.name, ("name",), max_length=100)
    description = validation.optional_text(cmd.description, ("description",), max_length=500)
    if (cmd.rule is None) == (cmd.external_refs is None):
        raise Validation("give either rules or externalRefs", ("rules",))
    if cmd.rule is not None:
        validated(cmd.rule)
    refs = _refs(cmd.external_refs) if cmd.external_refs is not None else None
    now = clock.now()
    async with uow:
        kind = SegmentKind.RULES if cmd.rule is not None else SegmentKind.STATIC
        segment = await uow.segments.add(name=name, description=description, kind=kind, rule=cmd.rule, at=now)
        if refs is not None:
            found = await uow.segments.member_ids_by_external_ref(refs)
            unknown = [r for r in refs if r not in found]
            if unknown:
                raise Validation(
                    f"{len(unknown)} externalRefs name no member, e.g. {', '.join(unknown[:3])}",
                    ("externalRefs",),
                )
            await uow.segments.set_members(segment.id, list(found.values()))
            known = None
        else:
            assert cmd.rule is not None
            known = await uow.segments.refresh_members(
                segment.id, cmd.rule, await rule_context(uow, utc_day(now)), None
            )
        size = await uow.segments.record_size(segment.id, utc_day(now), now, known)
        segment = replace(segment, size=size, refreshed_at=now)
        await uow.audit.record(audit_event(actor, "createSegment", "Segment", segment.id, None, segment, now))
        await uow.commit()
    return segment


async def update_segment(cmd: UpdateSegment, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Segment:
    """A new name, description or rules; each change makes a new version. An archived segment stays
    as it is."""
    require_role(actor, Role.ADMIN)
    name = None if cmd.name is None else validation.text(cmd.name, ("name",), max_length=100)
    description = validation.optional_text(cmd.description, ("description",), max_length=500)
    if cmd.rule is not None:
        validated(cmd.rule)
    now = clock.now()
    async with uow:
        before = await _segment(uow, cmd.segment_id)
        if before.status is SegmentStatus.ARCHIVED:
            raise Validation("an archived segment cannot change", ("segmentId",))
        if cmd.rule is not None and before.kind is SegmentKind.STATIC:
            raise Validation("a static segment has no rules", ("rules",))
        after = replace(
            before,
            name=before.name if name is None else name,
            description=before.description if cmd.description is None else description,
            rule=before.rule if cmd.rule is None else cmd.rule,
        )
        if after == before:
            return before
        after = await uow.segments.update(replace(after, version=before.version + 1, updated_at=now))
        if cmd.rule is not None:
            known = await uow.segments.refresh_members(
                after.id, cmd.rule, await rule_context(uow, utc_day(now)), None
            )
            size = await uow.segments.record_size(after.id, utc_day(now), now, known)
            after = replace(after, size=size, refreshed_at=now)
        await uow.audit.record(audit_event(actor, "updateSegment", "Segment", after.id, before, after, now))
        await uow.commit()
    return after


async def archive_segment(segment_id: int, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Segment:
    """No longer refreshed; its members and sizes stay for the record. Archiving twice is a no-op."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        before = await _segment(uow, segment_id)
        if before.status is SegmentStatus.ARCHIVED:
            return before
        after = await uow.segments.update(replace(before, status=SegmentStatus.ARCHIVED, updated_at=now))
        await uow.audit.record(audit_event(actor, "archiveSegment", "Segment", after.id, before, after, now))
        await uow.commit()
    return after


@dataclass(frozen=True, slots=True)
class Exported:
    """What the audit log keeps of an export: how many members, of which version."""

    members: int
    version: int


@dataclass(frozen=True, slots=True)
class SegmentExport:
    segment: Segment
    members: list[tuple[int, str]]  # (member id, externalRef), by member id


async def export_segment(segment_id: int, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> SegmentExport:
    """The segment's members for a CSV file (their ids and externalRefs, no contact data); each export
    is audited with its size. Refused over MAX_EXPORT members: page `Segment.members` instead."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        segment = await _segment(uow, segment_id)
        found = await uow.segments.member_refs(segment.id, MAX_EXPORT + 1)
        if len(found) > MAX_EXPORT:
            raise Validation(f"over {MAX_EXPORT:,} members: page Segment.members instead", ("segmentId",))
        exported = Exported(len(found), segment.version)
        await uow.audit.record(
            audit_event(actor, "exportSegment", "Segment", segment.id, None, exported, now)
        )
        await uow.commit()
    return SegmentExport(segment, found)


async def run_segment_refresh(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    full: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SegmentRefresh:
    """Full on the first run of a UTC day (or when asked), else incremental; see the module doc."""
    now = clock.now()
    today = utc_day(now)
    async with (uow := uow_factory()):
        mark = await uow.segments.refresh_mark()
    if full or mark.full_refresh_on != today:
        return await _full_refresh(uow_factory, now, today)
    members = 0
    segments: list[Segment] = []
    while True:
        async with (uow := uow_factory()):
            ids, moved = await uow.segments.acted_since(mark, BATCH)
            if moved == mark:
                return SegmentRefresh(False, members, len(segments))
            segments = await uow.segments.active()
            await _refresh(uow, ids, segments, today, now)
            await uow.segments.set_refresh_mark(moved)
            await uow.commit()
        mark, members = moved, members + len(ids)
        if progress is not None:
            progress(members)


async def _full_refresh(uow_factory: Callable[[], UnitOfWork], now: datetime, today: date) -> SegmentRefresh:
    async with (uow := uow_factory()):
        # Whatever is posted from here on is picked up by the next incremental run.
        latest = await uow.segments.latest_mark()
        segments = await uow.segments.active()
        members = await _refresh(uow, None, segments, today, now)
        await uow.segments.set_refresh_mark(replace(latest, full_refresh_on=today))
        await uow.commit()
    return SegmentRefresh(True, members, len(segments))


async def _refresh(
    uow: UnitOfWork, member_ids: Sequence[int] | None, segments: Sequence[Segment], today: date, now: datetime
) -> int:
    programme = await uow.programme.get()
    currency = profile_currency(programme, await uow.tiers.ladder())
    members = await uow.segments.refresh_profiles(today, currency, member_ids)
    ctx = await rule_context(uow, today)
    for segment in segments:
        assert segment.rule is not None, "active() gives rule segments"
        known = await uow.segments.refresh_members(segment.id, segment.rule, ctx, member_ids)
        await uow.segments.record_size(segment.id, today, now, known)
    return members


async def _segment(uow: UnitOfWork, segment_id: int) -> Segment:
    found = await uow.segments.get(segment_id, lock=True)
    if found is None:
        raise NotFound("no such segment", ("segmentId",))
    return found


def _refs(refs: Sequence[str]) -> list[str]:
    if not refs or len(refs) > MAX_LIST:
        raise Validation(f"give 1 to {MAX_LIST:,} externalRefs", ("externalRefs",))
    cleaned = [validation.text(r, ("externalRefs",), max_length=64) for r in refs]
    return sorted(set(cleaned))
