"""Segments: listed, previewed, created, changed and archived by admins (audited)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError, bad_input
from api.mutations.payload import run_use_case
from api.permissions import ADMIN
from api.types.ids import decode_id, encode_id
from api.types.members import Member
from api.types.pagination import After, First, connection
from api.types.segments import Segment, SegmentPreview, SegmentRuleInput, SegmentStatus, to_rule
from domain.errors import DomainError
from domain.profiles import utc_day
from domain.segments import RuleContext, validated
from domain.services.segments import (
    CreateSegment,
    UpdateSegment,
    archive_segment,
    create_segment,
    export_segment,
    update_segment,
)
from domain.tiers import entry_tier

MAX_SAMPLE = 50


@strawberry.input(
    description="A new segment: give rules, or the externalRefs of its members (a static list)."
)
class CreateSegmentInput:
    name: str = strawberry.field(description="Unique among segments; at most 100 characters.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    rules: SegmentRuleInput | None = strawberry.field(default=None, description="Members these match.")
    external_refs: list[str] | None = strawberry.field(
        default=None, description="Exactly these members (1 to 100,000; each must name a member)."
    )


@strawberry.input(description="What changes; omitted fields stay. Each change makes a new version.")
class UpdateSegmentInput:
    segment_id: relay.GlobalID = strawberry.field(description="The segment's global id.")
    name: str | None = strawberry.field(default=None, description="A new unique name.")
    description: str | None = strawberry.field(default=None, description="A new description.")
    rules: SegmentRuleInput | None = strawberry.field(
        default=None, description="New rules (rule segments only); members are matched again at once."
    )


@strawberry.input(description="The segment to archive.")
class ArchiveSegmentInput:
    segment_id: relay.GlobalID = strawberry.field(description="The segment's global id.")


@strawberry.type(description="The segment made, or why nothing changed.")
class CreateSegmentPayload:
    segment: Segment | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The segment as it now stands, or why nothing changed.")
class UpdateSegmentPayload:
    segment: Segment | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The segment whose members to export.")
class ExportSegmentInput:
    segment_id: relay.GlobalID = strawberry.field(description="The segment's global id.")


@strawberry.type(description="The segment's members as CSV, or why there is none.")
class ExportSegmentPayload:
    csv: str | None = strawberry.field(
        description="A header line `member_id,external_ref`, then one line per member by member id (global "
        "ids; no contact data). Null when errors is not empty."
    )
    members: int | None = strawberry.field(description="How many lines follow the header.")
    errors: list[UserError] = strawberry.field(description="Why there is none; empty on success.")


@strawberry.type(description="The archived segment, or why nothing changed.")
class ArchiveSegmentPayload:
    segment: Segment | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class SegmentQueries:
    @strawberry.field(permission_classes=ADMIN, description="Segments by id, filtered by status (ADMIN).")
    async def segments(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[SegmentStatus | None, strawberry.argument(description="Omitted: all.")] = None,
    ) -> relay.Connection[Segment]:
        reader = info.context.reader
        return await connection(
            first=first,
            after=after,
            fetch=lambda position, limit: reader.segment_page(position, limit, status),
            key=lambda s: s.id,
            node=Segment.from_domain,
        )

    @strawberry.field(
        permission_classes=ADMIN,
        description="How many members rules would match now, and the first few, without saving them (ADMIN).",
    )
    async def segment_preview(
        self,
        info: Info,
        rules: Annotated[SegmentRuleInput, strawberry.argument(description="The rules to try.")],
        sample: Annotated[int, strawberry.argument(description="Members to show, 0 to 50.")] = 10,
    ) -> SegmentPreview:
        try:
            rule = validated(to_rule(rules))
        except DomainError as error:
            raise bad_input(f"{'.'.join(error.field or ())}: {error.message}") from error
        context = info.context
        entry = entry_tier(await context.loaders.ladder())
        ctx = RuleContext(
            utc_day(context.clock.now()),
            await context.reader.lifecycle_rules(),
            "" if entry is None else entry.code,
        )
        size, members = await info.context.reader.segment_preview(rule, ctx, max(0, min(sample, MAX_SAMPLE)))
        return SegmentPreview(size=size, sample=[Member.from_domain(m, listed=True) for m in members])


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Save a segment by rules or by list; audited (ADMIN)."
    )
    async def create_segment(
        self,
        info: Info,
        input: Annotated[CreateSegmentInput, strawberry.argument(description="The segment.")],
    ) -> CreateSegmentPayload:
        def command() -> CreateSegment:
            return CreateSegment(
                name=input.name,
                description=input.description,
                rule=None if input.rules is None else to_rule(input.rules),
                external_refs=None if input.external_refs is None else tuple(input.external_refs),
            )

        made, errors = await run_use_case(
            info, lambda actor, uow, clock: create_segment(command(), actor=actor, uow=uow, clock=clock)
        )
        return CreateSegmentPayload(segment=Segment.from_domain(made) if made else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Rename, describe or change a segment's rules; audited (ADMIN)."
    )
    async def update_segment(
        self,
        info: Info,
        input: Annotated[UpdateSegmentInput, strawberry.argument(description="The changes.")],
    ) -> UpdateSegmentPayload:
        def command() -> UpdateSegment:
            return UpdateSegment(
                segment_id=decode_id(input.segment_id, "Segment", "segmentId"),
                name=input.name,
                description=input.description,
                rule=None if input.rules is None else to_rule(input.rules),
            )

        updated, errors = await run_use_case(
            info, lambda actor, uow, clock: update_segment(command(), actor=actor, uow=uow, clock=clock)
        )
        return UpdateSegmentPayload(segment=Segment.from_domain(updated) if updated else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="A segment's members as CSV (up to 100,000; page Segment.members beyond); each export "
        "is audited (ADMIN).",
    )
    async def export_segment(
        self, info: Info, input: Annotated[ExportSegmentInput, strawberry.argument(description="Which.")]
    ) -> ExportSegmentPayload:
        exported, errors = await run_use_case(
            info,
            lambda actor, uow, clock: export_segment(
                decode_id(input.segment_id, "Segment", "segmentId"), actor=actor, uow=uow, clock=clock
            ),
        )
        if exported is None:
            return ExportSegmentPayload(csv=None, members=None, errors=errors)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["member_id", "external_ref"])
        writer.writerows((str(encode_id("Member", member_id)), ref) for member_id, ref in exported.members)
        return ExportSegmentPayload(csv=out.getvalue(), members=len(exported.members), errors=[])

    @strawberry.mutation(
        permission_classes=ADMIN, description="Stop refreshing a segment, keeping it for the record (ADMIN)."
    )
    async def archive_segment(
        self, info: Info, input: Annotated[ArchiveSegmentInput, strawberry.argument(description="Which.")]
    ) -> ArchiveSegmentPayload:
        archived, errors = await run_use_case(
            info,
            lambda actor, uow, clock: archive_segment(
                decode_id(input.segment_id, "Segment", "segmentId"), actor=actor, uow=uow, clock=clock
            ),
        )
        return ArchiveSegmentPayload(
            segment=Segment.from_domain(archived) if archived else None, errors=errors
        )
