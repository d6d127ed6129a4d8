"""The audit log, newest first, filtered by actor, action or member: each row's changed fields in
short, and its whole before and after behind a disclosure (no script needed)."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.routing import Route

from api.console.ids import global_id
from api.console.web import Console, Page

LOG = """query($first: Int!, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    edges { node { id occurredAt actor action targetType targetId memberId before after requestId hash } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PAGE_SIZE = 50


async def audit_log(page: Page) -> Response:
    actor, action, member = page.param("actor"), page.param("action"), page.param("member")
    filter_: dict[str, str] = {}
    if actor:
        filter_["actor"] = actor
    if action:
        filter_["action"] = action
    if member.isdigit():
        filter_["memberId"] = global_id("Member", int(member))
    variables = {"first": PAGE_SIZE, "after": page.param("after") or None, "filter": filter_ or None}
    answer = await page.query(LOG, variables)
    connection = answer.need("auditLog")
    rows = [
        {
            **edge["node"],
            "change": _change(edge["node"]["before"], edge["node"]["after"]),
            "full": _full(edge["node"]["before"], edge["node"]["after"]),
        }
        for edge in connection["edges"]
    ]
    return page.render(
        "audit.html",
        title="Audit log",
        rows=rows,
        page_info=connection["pageInfo"],
        actor=actor,
        action=action,
        member=member,
        errors=answer.messages(),
    )


def _change(before: object, after: object) -> list[str]:
    """What changed, one line per field: `field: old -> new` when both sides are objects, else the
    side there is. The log holds contact data only masked."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            f"{name}: {_short(before.get(name))} → {_short(after.get(name))}"
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        ]
    if after is not None:
        return [f"{'set' if before is None else 'after'}: {_short(after, 160)}"]
    if before is not None:
        return [f"before: {_short(before, 160)}"]
    return []


def _short(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _full(before: object, after: object) -> str:
    return json.dumps({"before": before, "after": after}, ensure_ascii=False, sort_keys=True, indent=1)


def routes(console: Console) -> list[Route]:
    return [Route("/audit", console.page(audit_log), methods=["GET"])]
