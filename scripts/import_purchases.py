"""Post a merchant's settlement file as purchases (`scripts/import-purchases`).

    scripts/import-purchases --merchant 7 settlement-2026-11-01.csv
    DATABASE_URL=postgresql+asyncpg://... scripts/import-purchases --merchant 7 day.jsonl --quiet

CSV (a header line naming reference,member,amount,currency,time,channel in any order) or JSON Lines
(one object per line with those keys); the format comes from the suffix or --format. The file is
streamed and posted a batch at a time, each batch in one transaction with the same earning rules as
postPurchase. Lines are idempotent per (merchant, reference): re-running a file, or the rest of an
interrupted one, posts only what is missing. Bad lines go to stderr as `line N: message` and are
skipped; the summary goes to stdout.
Exit status: 0 when every line was good, 1 when some were bad (the rest were posted), 2 when the
import could not run (no such merchant, unreadable file or header, database error).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO, cast

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from domain.actors import Actor, Role
from domain.clock import Clock, SystemClock
from domain.errors import DomainError, OutcomeUnknown, Unavailable
from domain.ports import UnitOfWork
from domain.services.settlement import import_settlement_batch
from domain.settlement import BadLine, SettlementLine, parse_settlement
from scripts.progress import ProgressBar

if TYPE_CHECKING:
    from persistence.personal_data import PersonalDataVault

FORMATS: dict[str, Literal["csv", "jsonl"]] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Counting lines for the progress bar's total reads the file once more; past this size it is not cheap.
COUNT_LINES_BELOW = 200 * 1024 * 1024
REDRAW_SECONDS = 0.1


class BadFile(ValueError):
    """The file cannot be imported at all: unreadable, or its CSV header lacks a column."""


@dataclass
class ImportSummary:
    posted: int = 0
    duplicates: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    points: int = 0
    seconds: float = 0.0
    lines: int = 0  # data lines read (good and bad); not the header or blank lines

    def text(self) -> str:
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        return (
            f"imported {self.posted} purchases ({self.points} points), {self.duplicates} already imported,"
            f" {len(self.bad_lines)} bad lines, in {self.seconds:.1f} s ({rate:.0f} lines/s)"
        )


async def import_file(
    path: Path,
    *,
    merchant_id: int,
    fmt: str,
    batch_size: int,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    progress: bool,
    report: TextIO | None = None,
) -> ImportSummary:
    """Post the file's good lines a batch at a time; bad lines are collected, and written to `report`
    as `line N: message` in line order when given. `progress` draws a bar on stderr if it is a TTY.

    Raises BadFile before posting anything when the CSV header is unusable, OSError when the file
    cannot be read, and DomainError when a batch cannot be posted at all (e.g. no such merchant);
    the batches posted before any error stay posted.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}; expected 'csv' or 'jsonl'")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    summary = ImportSummary()
    actor = Actor(role=Role.MERCHANT, subject=f"import:{merchant_id}", merchant_id=merchant_id)
    bar = (
        ProgressBar(sys.stderr, "import", "lines", count_lines(path))
        if progress and sys.stderr.isatty()
        else None
    )
    batch: list[SettlementLine] = []
    pending: list[BadLine] = []  # parse errors not yet reported: they wait for the batch before them
    inflight: asyncio.Task[None] | None = None

    def write(bad: list[BadLine]) -> None:
        bad.sort(key=lambda b: b.line_no)
        summary.bad_lines += bad
        if report is not None and bad:
            if bar is not None:
                bar.clear()
            report.write("".join(f"line {b.line_no}: {b.message}\n" for b in bad))
            report.flush()

    async def settle() -> None:
        """Wait for the batch in flight; its report comes before anything read after it."""
        nonlocal inflight
        if inflight is not None:
            task, inflight = inflight, None
            await task

    async def post() -> None:
        # One batch in flight while the next is read: the database writes one batch on one core
        # while this process parses and prices the next on the other.
        nonlocal inflight
        lines, errors = batch.copy(), pending.copy()
        batch.clear()
        pending.clear()
        await settle()

        async def run() -> None:
            outcome = await import_settlement_batch(lines, actor=actor, uow=uow_factory(), clock=clock)
            summary.posted += outcome.posted
            summary.duplicates += outcome.duplicates
            summary.points += outcome.points
            write([*errors, *outcome.rejected])

        inflight = asyncio.create_task(run())

    redraw = asyncio.create_task(_redraw(bar)) if bar is not None else None
    try:
        # errors="surrogateescape": an undecodable byte spoils only the field it is in (the parser
        # reports it), not the whole import; utf-8-sig drops the byte-order mark spreadsheets write.
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as file:
            try:
                items = parse_settlement(file, fmt=cast(Literal["csv", "jsonl"], fmt))
            except ValueError as exc:
                raise BadFile(f"{path}: {exc}") from exc
            for item in items:
                summary.lines += 1
                if bar is not None:
                    bar.update(item.line_no)
                if isinstance(item, SettlementLine):
                    batch.append(item)
                    if len(batch) >= batch_size:
                        await post()
                    continue
                pending.append(item)
                if len(pending) >= batch_size:
                    # A long run of bad lines (a wrong file?) is reported as it goes, not at the end;
                    # posting the good lines before it first, even as a short batch, keeps line order.
                    if batch:
                        await post()
                    else:
                        await settle()
                        write(pending.copy())
                        pending.clear()
                        await asyncio.sleep(0)  # let the progress bar redraw
            if batch:
                await post()
            await settle()
            write(pending.copy())
    finally:
        if inflight is not None:
            inflight.cancel()  # an error elsewhere: the batch in flight rolls back
        if redraw is not None:
            redraw.cancel()
        if bar is not None:
            bar.clear()
    summary.seconds = time.perf_counter() - started
    return summary


async def _redraw(bar: ProgressBar) -> None:
    while True:
        bar.draw()
        await asyncio.sleep(REDRAW_SECONDS)


def count_lines(path: Path) -> int | None:
    """Physical lines in the file, or None when counting would cost a noticeable extra read."""
    try:
        if path.stat().st_size >= COUNT_LINES_BELOW:
            return None
        count, last = 0, b"\n"
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None  # the import itself will report it
    return count + (last != b"\n")  # a last line without a newline still counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/import-purchases",
        description="Post a merchant's settlement file (CSV or JSON Lines) as purchases. Uses DATABASE_URL.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the settlement file (.csv, .jsonl, .ndjson)")
    parser.add_argument(
        "--merchant", type=int, required=True, metavar="ID", help="the merchant whose settlement this is"
    )
    parser.add_argument(
        "--format", choices=("csv", "jsonl"), help="the file's format (default: from its suffix)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="lines posted per transaction (default 1000)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The wrapper changes to the repository root (where var/ and the default database are), so it
    # passes the caller's directory along; a relative FILE means relative to that.
    path = Path(os.environ.get("IMPORT_PURCHASES_CWD", ""), args.file)
    fmt = args.format or FORMATS.get(path.suffix.lower())
    if fmt is None:
        parser.error(f"cannot tell the format of {args.file} from its suffix; pass --format csv|jsonl")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.merchant < 1:
        parser.error("--merchant must be a positive id")
    if not path.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2

    # Imported here so that `--help` and usage errors need neither the database layers nor settings.
    from api.app import migration_keys, personal_data_vault
    from api.settings import ConfigurationError, Settings
    from persistence.migrate import upgrade_to_head

    try:
        settings = Settings.from_env()
    except (ConfigurationError, ValueError, OSError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        upgrade_to_head(settings.database_url, migration_keys(settings))  # sync: alembic runs its own loop
    except Exception as exc:  # alembic and drivers raise many kinds; none of them lets us go on
        print(f"error: could not migrate the database at {shown}: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(
            run(
                settings.database_url,
                path,
                fmt,
                args.merchant,
                args.batch_size,
                args.quiet,
                vault=personal_data_vault(settings),
            )
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the batches posted so far stay posted; run the file again to post the rest",
            file=sys.stderr,
        )
        return 130


async def run(
    url: str,
    path: Path,
    fmt: str,
    merchant_id: int,
    batch_size: int,
    quiet: bool,
    vault: PersonalDataVault | None = None,
) -> int:
    from persistence.engine import create_database
    from persistence.unit_of_work import SqlAlchemyUnitOfWork

    shown = make_url(url).render_as_string(hide_password=True)
    database = create_database(url, vault=vault)
    try:
        summary = await import_file(
            path,
            merchant_id=merchant_id,
            fmt=fmt,
            batch_size=batch_size,
            uow_factory=lambda: SqlAlchemyUnitOfWork(database.write_engine),
            clock=SystemClock(),
            progress=not quiet,
            report=sys.stderr,
        )
    except BadFile as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, Unavailable, OutcomeUnknown) as exc:  # the last two: a lost connection
        print(f"error: database at {shown}: {exc}", file=sys.stderr)
        print(
            "the batches posted before it stay posted; run the file again to post the rest", file=sys.stderr
        )
        return 2
    except DomainError as exc:
        print(f"error: {exc.message} (--merchant {merchant_id})", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    print(summary.text())
    return 1 if summary.bad_lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
