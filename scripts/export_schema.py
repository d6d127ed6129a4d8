"""Export the GraphQL SDL to schema.graphql (`scripts/export-schema`); `--check` fails when it is stale.

The file is the public contract clients generate code from: it is checked in, and
tests/integration/test_schema_is_current.py fails when it differs from the live schema.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from strawberry.printer import print_schema

from api.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def current_sdl() -> str:
    """The SDL of the schema the server runs (query limits do not change the SDL)."""
    return print_schema(build_schema()).rstrip("\n") + "\n"


def stale_diff(path: Path = SCHEMA_FILE, *, context: int = 3) -> str | None:
    """None when `path` matches the live schema, else a unified diff (file -> live schema)."""
    live = current_sdl()
    stored = path.read_text(encoding="utf-8") if path.exists() else ""
    if stored == live:
        return None
    return "".join(
        difflib.unified_diff(
            stored.splitlines(keepends=True),
            live.splitlines(keepends=True),
            fromfile=f"{path.name} (checked in)",
            tofile=f"{path.name} (live schema)",
            n=context,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/export-schema", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs; write nothing")
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE, help=f"default {SCHEMA_FILE.name}")
    args = parser.parse_args(argv)
    if args.check:
        diff = stale_diff(args.output)
        if diff is None:
            print(f"{args.output.name} is up to date")
            return 0
        print(diff, end="", file=sys.stderr)
        print(f"\n{args.output} is stale: run scripts/export-schema and commit it", file=sys.stderr)
        return 1
    args.output.write_text(current_sdl(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
