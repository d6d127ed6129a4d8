"""`loyalty`: one command for the operator, each subcommand the script of the same name in scripts/
(whose shell wrappers stay, and keep working). Installed with the project (`[project.scripts]`); run
it from the repository, where var/ and the default SQLite database are, or with DATABASE_URL set.

The subcommands pass their arguments to the script unchanged: `loyalty jobs --help` is the jobs'
own help. Modules are imported only by the subcommand that needs them, so `loyalty --help` is quick.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import typer

app = typer.Typer(
    name="loyalty",
    help="Loyalty Ledger: serve the API, issue tokens, run and schedule the jobs, import, verify, measure.",
    no_args_is_help=True,
    add_completion=False,
)

# Arguments, options and --help alike go to the script's own parser.
PASS_THROUGH: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}


def _run(module: str, argv: Sequence[str]) -> None:
    """`module`'s main(argv); its return value (or SystemExit) is the exit status."""
    main: Callable[..., int | None] = importlib.import_module(module).main
    raise typer.Exit(main(list(argv)) or 0)


def _passing(name: str, module: str, summary: str) -> None:
    def command(ctx: typer.Context) -> None:
        _run(module, ctx.args)

    command.__doc__ = summary
    app.command(name, context_settings=PASS_THROUGH, add_help_option=False)(command)


_passing("token", "scripts.issue_token", "Print a JWT signed with the local key (--role admin, ...).")
_passing("jobs", "scripts.jobs", "Run the scheduled work once: a job by name, or all (with a progress bar).")
_passing(
    "import-purchases", "scripts.import_purchases", "Post a merchant's settlement file (FILE --merchant ID)."
)
_passing(
    "verify-ledger", "scripts.verify_ledger", "Re-sum the ledger in one snapshot; exit 1 on any violation."
)
_passing("bench", "scripts.benchmarks.__main__", "The benchmarks of the README's Performance section.")
_passing("export-schema", "scripts.export_schema", "Write schema.graphql (--check only compares).")
_passing(
    "scheduler",
    "scripts.scheduler",
    "Run the jobs on their schedules; one of several schedulers holds the lock.",
)


@app.command()
def serve(
    host: str = typer.Option(None, envvar="HOST", help="Address to listen on (127.0.0.1)."),
    port: int = typer.Option(None, envvar="PORT", help="Port (8000)."),
    workers: int = typer.Option(None, envvar="WORKERS", help="uvicorn worker processes (1)."),
) -> None:
    """Migrate, seed an empty database with demo data, and serve the API (as scripts/serve)."""
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[name] = str(value)
    from scripts.serve import main

    main()


@app.command(context_settings=PASS_THROUGH, add_help_option=False)
def worker(ctx: typer.Context) -> None:
    """Deliver the outbox's business events and run the reactions to them (scripts/worker)."""
    from scripts.worker import main

    raise typer.Exit(main(list(ctx.args)) or 0)


if __name__ == "__main__":
    app()
