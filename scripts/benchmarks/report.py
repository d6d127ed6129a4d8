"""Figures beside their ceilings and targets, printed as a table or JSON."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from scripts.benchmarks.load import LoadResult


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ceiling_label: str = ""
    target_ratio: float | None = None
    target_min: float | None = None
    target_max: float | None = None
    target_p99_ms: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    detail: str = ""
    met: bool | None = field(default=None)

    def __post_init__(self) -> None:
        if self.met is None:
            self.met = self._judge()

    @property
    def ratio(self) -> float | None:
        return self.value / self.ceiling if self.ceiling else None

    def _judge(self) -> bool | None:
        checks = []
        if self.target_ratio is not None and self.ratio is not None:
            checks.append(self.ratio >= self.target_ratio)
        if self.target_min is not None:
            checks.append(self.value >= self.target_min)
        if self.target_max is not None:
            checks.append(self.value <= self.target_max)
        if self.target_p99_ms is not None and self.p99_ms is not None:
            checks.append(self.p99_ms <= self.target_p99_ms)
        if self.errors:
            checks.append(False)
        return all(checks) if checks else None

    @classmethod
    def from_load(
        cls,
        section: str,
        name: str,
        result: LoadResult,
        *,
        ceiling: float | None = None,
        ceiling_label: str = "",
        target_ratio: float | None = None,
        target_min: float | None = None,
        target_p99_ms: float | None = None,
    ) -> Figure:
        detail = f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms"
        if result.errors:
            detail += f", {result.errors} errors (first: {result.first_error})"
        return cls(
            section=section,
            name=name,
            value=result.ops,
            unit="ops/s",
            ceiling=ceiling,
            ceiling_label=ceiling_label,
            target_ratio=target_ratio,
            target_min=target_min,
            target_p99_ms=target_p99_ms,
            p50_ms=result.percentile(50),
            p99_ms=result.percentile(99),
            errors=result.errors,
            detail=detail,
        )

    def target_text(self) -> str:
        parts = []
        if self.target_min is not None:
            parts.append(f">= {self.target_min:,.0f} {self.unit}")
        if self.target_max is not None:
            parts.append(f"<= {self.target_max:,.0f} {self.unit}")
        if self.target_ratio is not None:
            parts.append(f"ratio >= {self.target_ratio:.2f}")
        if self.target_p99_ms is not None:
            parts.append(f"p99 < {self.target_p99_ms:.0f} ms")
        return ", ".join(parts)


@dataclass
class Report:
    workers: int
    seconds: float
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)

    def machine(self) -> str:
        cores = os.cpu_count() or 0
        return (
            f"{cores} cores shared by the server ({self.workers} single-worker processes), PostgreSQL and "
            f"the load generator (1 process, asyncio); {self.seconds:g} s measured per figure after 1 s "
            "warm-up"
        )

    def table(self) -> str:
        rows = [("figure", "value", "ceiling", "ratio", "target", "met", "detail")]
        for f in self.figures:
            ceiling = f"{f.ceiling:,.0f} ({f.ceiling_label})" if f.ceiling is not None else ""
            ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
            met = {True: "yes", False: "NO", None: ""}[f.met]
            rows.append(
                (
                    f"{f.section}: {f.name}",
                    f"{f.value:,.0f} {f.unit}" if f.value >= 100 else f"{f.value:,.1f} {f.unit}",
                    ceiling,
                    ratio,
                    f.target_text(),
                    met,
                    f.detail,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join([self.machine(), "", *lines])

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine(),
            "figures": [{**asdict(f), "ratio": f.ratio, "target": f.target_text()} for f in self.figures],
        }
