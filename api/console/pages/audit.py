"""The audit log, newest first, filtered by actor, action or member; each row with its hash link."""

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


def _change(before: object, after: object) -> str:
    """Before and after in one line; the log holds contact data only masked."""
    parts = []
    if before is not None:
        parts.append(f"before {json.dumps(before, ensure_ascii=False, sort_keys=True)}")
    if after is not None:
        parts.append(f"after {json.dumps(after, ensure_ascii=False, sort_keys=True)}")
    return "; ".join(parts)


def routes(console: Console) -> list[Route]:
    return [Route("/audit", console.page(audit_log), methods=["GET"])]
