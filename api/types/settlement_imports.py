"""A settlement file's import as its merchant follows it: progress, totals, and the lines not posted."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import ErrorCode
from api.types.enums import describe_values
from api.types.ids import encode_id
from api.types.pagination import After, First, connection
from domain import settlement_imports as domain

strawberry.enum(
    domain.ImportStatus,
    name="SettlementImportStatus",
    description="Where an uploaded settlement file stands: QUEUED, RUNNING, DONE or FAILED.",
)
describe_values(
    domain.ImportStatus,
    {
        domain.ImportStatus.QUEUED: "Stored; no worker has started it yet.",
        domain.ImportStatus.RUNNING: "A worker is posting it, a batch of lines at a time.",
        domain.ImportStatus.DONE: "Every line was read: posted, already imported, or reported in `errors`.",
        domain.ImportStatus.FAILED: "Stopped before the end (see `failure`); what was posted stays posted.",
    },
)
SettlementImportStatus = domain.ImportStatus


@strawberry.type(description="A line of a settlement file that was not posted, and why (its MERCHANT).")
class SettlementLineError:
    line: int = strawberry.field(description="The physical line number in the file (the CSV header is 1).")
    code: ErrorCode = strawberry.field(
        description="What kind of refusal, as for postPurchase: VALIDATION, NOT_FOUND, MEMBER_LOCKED, "
        "IDEMPOTENCY_KEY_REUSED (the reference was imported with other details) ..."
    )
    message: str = strawberry.field(description="The field concerned and what is wrong with it.")


@strawberry.type(
    description="A settlement file uploaded with POST /settlements and posted in the background "
    "(the MERCHANT that uploaded it)."
)
class SettlementImport:
    id: relay.GlobalID = strawberry.field(description="The import's global id, as the upload answered it.")
    status: SettlementImportStatus = strawberry.field(description="Where the import stands.")
    format: str = strawberry.field(description="csv or jsonl.")
    size_bytes: int = strawberry.field(description="The file's size as uploaded.")
    total_lines: int = strawberry.field(description="The file's data lines (not the header or blank lines).")
    lines_done: int = strawberry.field(description="The data lines read so far, good and bad.")
    posted: int = strawberry.field(description="Lines posted as purchases by this import.")
    duplicates: int = strawberry.field(
        description="Lines whose reference was already imported with the same details: nothing posted."
    )
    rejected: int = strawberry.field(description="Lines not posted; each is in `errors`.")
    points: int = strawberry.field(description="The points the posted lines earned.")
    created_at: datetime = strawberry.field(description="When the file was uploaded.")
    started_at: datetime | None = strawberry.field(description="When a worker first took it up.")
    finished_at: datetime | None = strawberry.field(description="When it became DONE or FAILED.")
    failure: str | None = strawberry.field(description="FAILED: why the import stopped.")
    import_id: strawberry.Private[int]

    @strawberry.field(description="The lines not posted, by line number.")
    async def errors(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[SettlementLineError]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        reader = info.context.settlement_imports
        return await connection(
            first=first,
            after=after,
            fetch=lambda after_line, limit: reader.settlement_import_errors(
                self.import_id, after_line, limit
            ),
            key=lambda error: error[0],
            node=lambda error: SettlementLineError(line=error[0], code=ErrorCode(error[1]), message=error[2]),
        )

    @classmethod
    def from_domain(cls, found: domain.SettlementImport) -> SettlementImport:
        return cls(
            id=encode_id("SettlementImport", found.id),
            status=found.status,
            format=found.format,
            size_bytes=found.size_bytes,
            total_lines=found.total_lines,
            lines_done=found.lines_done,
            posted=found.posted,
            duplicates=found.duplicates,
            rejected=found.rejected,
            points=found.points,
            created_at=found.created_at,
            started_at=found.started_at,
            finished_at=found.finished_at,
            failure=found.failure,
            import_id=found.id,
        )
