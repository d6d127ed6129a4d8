"""Killed/total mutants per domain module, from the results `mutmut run` leaves under mutants/.

    scripts/mutation                  # run, then this table
    python -m scripts.mutation_report [--survivors]

A mutant counts as killed when a test failed (or timed out) on it; one that no test reaches counts as
surviving. Packages (domain/offers/, domain/services/ ...) get a subtotal line after their modules.

Survivors that cannot change behaviour are listed, each with its reason, in
tests/mutation-equivalents.md; the last column scores each module without them. With --survivors,
each surviving mutant not listed there is printed under its module (see one: `mutmut show NAME`),
and a listed mutant that no longer survives is reported so the list stays true.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

RESULTS = Path("mutants")
EQUIVALENTS = Path("tests/mutation-equivalents.md")
# mutmut's exit codes (mutmut/stats.py): 1 and 3 are failing tests, the others timeouts.
KILLED = {1, 3, 24, -24, 36, 152, 255}
NOT_COUNTED = {34, None}  # skipped, or not checked yet
# A mutant's name as the equivalents file quotes it: `domain.money.x_format_money__mutmut_14`.
MUTANT_NAME = re.compile(r"`(domain\.[^`\s]+__mutmut_\d+)`")


@dataclass
class Tally:
    killed: int = 0
    total: int = 0
    equivalent: int = 0  # survivors listed as equivalent
    survivors: list[str] = field(default_factory=list)  # the others

    def add(self, other: Tally) -> None:
        self.killed += other.killed
        self.total += other.total
        self.equivalent += other.equivalent

    def line(self, name: str) -> str:
        counted = self.total - self.equivalent
        return (
            f"{name:<36} {self.killed:>5} / {self.total:<5} {_percent(self.killed, self.total)}"
            f"   {self.equivalent:>5}   {_percent(self.killed, counted)}"
        )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.1f}%" if whole else "      -"


def tally(meta: Path, equivalents: set[str], stale: list[str]) -> Tally:
    results: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    t = Tally()
    for name, code in sorted(results.items()):
        if code in NOT_COUNTED:
            continue
        t.total += 1
        if code in KILLED:
            t.killed += 1
            if name in equivalents:
                stale.append(name)
        elif name in equivalents:
            t.equivalent += 1
        else:
            # Anything else (surviving, untested, segfault, suspicious) wants a closer look.
            t.survivors.append(name)
    return t


def listed_equivalents(path: Path) -> set[str]:
    return set(MUTANT_NAME.findall(path.read_text("utf-8"))) if path.exists() else set()


def report(root: Path, equivalents: set[str], out: TextIO, *, survivors: bool) -> int:
    metas = sorted(root.glob("domain/**/*.py.meta"))
    if not metas:
        print(f"no results under {root}/: run scripts/mutation first", file=sys.stderr)
        return 2
    stale: list[str] = []
    by_package: dict[str, list[tuple[str, Tally]]] = {}
    for meta in metas:
        module = meta.relative_to(root).as_posix().removesuffix(".meta")
        if not Path(module).exists():
            continue  # results of a module since removed or moved
        t = tally(meta, equivalents, stale)
        if t.total:
            by_package.setdefault(module.rsplit("/", 1)[0], []).append((module, t))
    overall = Tally()
    print(f"{'module':<36} {'killed':>5} / total   score   equiv   score without equivalents", file=out)
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
    if survivors and stale:
        print(f"\nlisted in {EQUIVALENTS} but killed now (take them off the list):", file=out)
        for name in stale:
            print(f"    {name}", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--survivors", action="store_true", help="list each surviving mutant not listed as equivalent"
    )
    args = parser.parse_args(argv)
    return report(RESULTS, listed_equivalents(EQUIVALENTS), sys.stdout, survivors=args.survivors)


if __name__ == "__main__":
    sys.exit(main())
