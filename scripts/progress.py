"""The progress bar of the long-running commands (`jobs`, `import-purchases`): one line on a terminal
(rich), drawn only when asked to, so that the work itself never waits for the screen."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """`done` of an estimated `total` `unit`s (None: unknown, the count and rate only). `update`
    records where the work is; `draw` shows it (a job's callback calls both, the importer draws from a
    task of its own ten times a second). `clear` takes the line away, before other output or at the
    end; the next `draw` puts it back."""

    def __init__(self, stream: TextIO, label: str, unit: str, total: int | None) -> None:
        self.total = total
        self.done = 0
        # Shown only where the caller found a terminal (or was told to draw): drawn as on one.
        console = Console(file=stream, force_terminal=True)
        self.progress = Progress(
            TextColumn(f"{label:8}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn(unit),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.progress.add_task(label, total=total, rate="")
        self.shown = False

    def __call__(self, done: int) -> None:
        self.update(done)
        self.draw()

    def update(self, done: int) -> None:
        self.done = done

    def draw(self) -> None:
        task = self.progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = f"{self.done / elapsed:,.0f}/s" if elapsed > 0 else ""
        total = max(self.total, self.done) if self.total is not None else None
        self.progress.update(self.task, completed=self.done, total=total, rate=rate)
        if not self.shown:
            self.progress.start()
            self.shown = True
        self.progress.refresh()

    def clear(self) -> None:
        if self.shown:
            self.progress.stop()
            self.shown = False
