"""A dashboard panel: a plot with the table of its exact figures, and a warning when the figures
should not be trusted as they stand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from api.console.client import JsonObject


@dataclass(frozen=True)
class Panel:
    title: str
    chart: Markup
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    warning: str = ""


PanelBuilder = Callable[[JsonObject], "Panel | None"]
