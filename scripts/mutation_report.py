"""Killed/total mutants per domain module, from the results `mutmut run` leaves under mutants/.

    scripts/mutation                  # run, then this table
    python -m scripts.mutation_report [--survivors]

A mutant counts as killed when a test failed (or timed out) on it; one that no test reaches counts as
surviving. Packages (domain/offers/, domain/services/) get a subtotal line after their modules.
With --survivors, each surviving mutant's name is listed under its module (`mutmut show NAME`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

RESULTS = Path("mutants")
# mutmut's exit codes (mutmut/stats.py): 1 and 3 are failing tests, the others timeouts.
KILLED = {1, 3, 24, -24, 36, 152, 255}
SURVIVED = {0, 5, 33}  # the tests passed, or no test covers the mutated function
NOT_COUNTED = {34, None}  # skipped, or not checked yet


@dataclass
class Tally:
    killed: int = 0
    total: int = 0
    survivors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.killed += other.killed
        self.total += other.total

    def line(self, name: str) -> str:
        percent = f"{100 * self.killed / self.total:6.1f}%" if self.total else "      -"
        return f"{name:<36} {self.killed:>5} / {self.total:<5} {percent}"


def tally(meta: Path) -> Tally:
    results: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    t = Tally()
    for name, code in sorted(results.items()):
        if code in NOT_COUNTED:
            continue
        t.total += 1
        if code in KILLED:
            t.killed += 1
        else:
            # Anything else (surviving, segfault, suspicious) is shown for a closer look.
            t.survivors.append(name)
    return t


def report(root: Path, out: TextIO, *, survivors: bool) -> int:
    metas = sorted(root.glob("domain/**/*.py.meta"))
    if not metas:
        print(f"no results under {root}/: run scripts/mutation first", file=sys.stderr)
        return 2
    by_package: dict[str, list[tuple[str, Tally]]] = {}
    for meta in metas:
        module = meta.relative_to(root).as_posix().removesuffix(".meta")
        t = tally(meta)
        if t.total:
            by_package.setdefault(module.rsplit("/", 1)[0], []).append((module, t))
    overall = Tally()
    print(f"{'module':<36} {'killed':>5} / total   score", file=out)
    # The domain's own modules first, then each package with its subtotal.
    for package in sorted(by_package, key=lambda p: (p != "domain", p)):
        subtotal = Tally()
        for module, t in by_package[package]:
            subtotal.add(t)
            print(t.line(module), file=out)
            if survivors:
                for name in t.survivors:
                    print(f"    {name}", file=out)
        if package != "domain":
            print(subtotal.line(f"{package}/ (all)"), file=out)
        overall.add(subtotal)
    print(overall.line("domain/ (all)"), file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--survivors", action="store_true", help="list each surviving mutant's name")
    args = parser.parse_args(argv)
    return report(RESULTS, sys.stdout, survivors=args.survivors)


if __name__ == "__main__":
    sys.exit(main())
