"""The console's areas: one module each, with its routes and its entry in the navigation. A new area
(experiments, recommended offers, webhooks) is a module here and one line in AREAS."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Route

from api.console.pages import audit, campaigns, experiment, members, offers, risk, segments, settings
from api.console.web import Console, NavItem

Area = tuple[NavItem | None, Callable[[Console], list[Route]]]

AREAS: list[Area] = [
    (NavItem("Members", "/members"), members.routes),
    (NavItem("Offers", "/offers"), offers.routes),
    (None, campaigns.routes),  # reached from an offer's row
    (None, experiment.routes),  # reached from an offer's form and its dashboard
    (NavItem("Segments", "/segments"), segments.routes),
    (NavItem("Risk reviews", "/risk"), risk.routes),
    (NavItem("Audit log", "/audit"), audit.routes),
    (NavItem("Settings", "/settings"), settings.routes),
]


def navigation() -> list[NavItem]:
    return [item for item, _ in AREAS if item is not None]


def area_routes(console: Console) -> list[Route]:
    return [route for _, routes in AREAS for route in routes(console)]
