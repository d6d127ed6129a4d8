"""Members: search, and one member's detail (balance, ledger, purchases, tier history, its risk
holds). Contact data is not asked for until the admin clicks "Reveal contact": that post reads
member(id) { contact }, which the API audits as a personal-data read (one row per member per request);
the page view before it selects no contact at all, so it writes no audit row."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from api.console.ids import global_id, local_id
from api.console.web import Console, Page

SEARCH = """query($first: Int!, $after: String, $filter: MemberFilter) {
  members(first: $first, after: $after, filter: $filter) {
    edges { node { id externalRef displayName status enrolledAt tier { name }
                   balance { available } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

DETAIL = """query($id: ID!, $reveal: Boolean!, $ledgerAfter: String, $purchasesAfter: String) {
  member(id: $id) {
    id externalRef displayName status statusReason referralCode enrolledAt lastActivityAt dormantSince
    contact @include(if: $reveal) { phone email }
    tier { name }
    tierProgress { nextTier { name } pointsNeeded qualifyingPoints graceUntil }
    balance { available pending held lifetimeEarned lifetimeRedeemed debt underReview
              expiringSoon { points expiresAt } }
    ledger(first: 20, after: $ledgerAfter) {
      edges { node { kind account points description createdAt } }
      pageInfo { hasNextPage endCursor }
    }
    purchases(first: 10, after: $purchasesAfter) {
      edges { node { occurredAt reference amount { amountMinor currency } pointsEarned pointsPending status
                     merchant { name } } }
      pageInfo { hasNextPage endCursor }
    }
    tierHistory(first: 10) { edges { node { reason fromTier { name } toTier { name } qualifyingPoints
                                            createdAt } } }
  }
  riskReviews(first: 10, filter: {memberId: $id}) {
    edges { node { id points status createdAt decidedAt decidedBy outcomes { reason } } }
  }
}"""

# What a search may be by: the filters the API matches exactly, each on an index.
SEARCH_BY = {
    "externalRef": "Customer reference",
    "name": "Phone or email (exact)",
    "referralCode": "Referral code",
}
PAGE_SIZE = 20


async def search(page: Page) -> Response:
    text, by = page.param("q"), page.param("by", "externalRef")
    by = by if by in SEARCH_BY else "externalRef"
    status = page.param("status")
    filter_: dict[str, str] = {}
    if text:
        filter_[by] = text
    if status:
        filter_["status"] = status
    variables = {"first": PAGE_SIZE, "after": page.param("after") or None, "filter": filter_ or None}
    answer = await page.query(SEARCH, variables)
    connection = answer.need("members")
    rows = [{**edge["node"], "key": local_id(edge["node"]["id"])} for edge in connection["edges"]]
    return page.render(
        "members.html",
        title="Members",
        rows=rows,
        page_info=connection["pageInfo"],
        q=text,
        by=by,
        status=status,
        search_by=SEARCH_BY,
        statuses=["ACTIVE", "LOCKED", "DORMANT", "CLOSED", "ERASED"],
        errors=answer.messages(),
    )


async def detail(page: Page) -> Response:
    return await _detail(page, reveal=False)


async def reveal(page: Page) -> Response:
    return await _detail(page, reveal=True)


async def _detail(page: Page, *, reveal: bool) -> Response:
    key = int(page.request.path_params["key"])
    variables = {
        "id": global_id("Member", key),
        "reveal": reveal,
        # Older movements and purchases, a page at a time (the cursors the API gave).
        "ledgerAfter": page.param("ledger") or None,
        "purchasesAfter": page.param("purchases") or None,
    }
    answer = await page.query(DETAIL, variables)
    member = answer.data.get("member")
    if member is None:
        return page.render("missing.html", status_code=404, title="No such member", what="member")
    reviews = (answer.data.get("riskReviews") or {}).get("edges", [])
    return page.render(
        "member.html",
        title=f"Member {member['externalRef'] or key}",
        member=member,
        reviews=[{**edge["node"], "key": local_id(edge["node"]["id"])} for edge in reviews],
        key=key,
        revealed=reveal,
        paged=bool(variables["ledgerAfter"] or variables["purchasesAfter"]),
        errors=answer.messages(),
    )


def routes(console: Console) -> list[Route]:
    return [
        Route("/members", console.page(search), methods=["GET"]),
        Route("/members/{key:int}", console.page(detail), methods=["GET"]),
        Route("/members/{key:int}/reveal", console.action(reveal), methods=["POST"]),
    ]
