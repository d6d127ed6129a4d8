"""The risk review queue: earnings the risk rules held, newest first, approved or rejected one by one.

A decision's idempotency key is derived from the review and the decision, so a double click or a
re-sent form replays the first answer instead of deciding twice."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from api.console.ids import global_id, local_id
from api.console.web import Console, Page, View

QUEUE = """query($status: RiskReviewStatus, $after: String) {
  riskReviews(first: 25, after: $after, filter: {status: $status}) {
    edges { node { id memberId purchaseId merchantId points status createdAt decidedAt decidedBy
                   outcomes { kind action figure limit reason } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DECIDE = """mutation($input: %(input)s!) {
  %(name)s(input: $input) { review { id status } errors { code field message } }
}"""
STATUSES = ["OPEN", "APPROVED", "REJECTED"]


async def queue(page: Page) -> Response:
    status = page.param("status", "OPEN")
    status = status if status in STATUSES else "OPEN"
    answer = await page.query(QUEUE, {"status": status, "after": page.param("after") or None})
    connection = answer.need("riskReviews")
    rows = [
        {
            **edge["node"],
            "key": local_id(edge["node"]["id"]),
            "member_key": local_id(edge["node"]["memberId"]),
            "merchant_key": local_id(edge["node"]["merchantId"]),
        }
        for edge in connection["edges"]
    ]
    return page.render(
        "risk.html",
        title="Risk review queue",
        rows=rows,
        page_info=connection["pageInfo"],
        status=status,
        statuses=STATUSES,
        errors=answer.messages(),
    )


def _decision(mutation: str, input_type: str, done: str) -> View:
    async def decide(page: Page) -> Response:
        key = int(page.request.path_params["key"])
        variables = {
            "input": {"reviewId": global_id("RiskReview", key), "idempotencyKey": f"console-{mutation}-{key}"}
        }
        answer = await page.query(DECIDE % {"input": input_type, "name": mutation}, variables)
        payload = answer.data.get(mutation)
        if payload is None or payload["errors"]:
            reasons = [e["message"] for e in payload["errors"]] if payload else answer.messages()
            return page.redirect("/risk", f"Review #{key} unchanged: {'; '.join(reasons)}")
        return page.redirect("/risk", f"Review #{key} {done}.")

    return decide


def routes(console: Console) -> list[Route]:
    approve = _decision("approveRiskReview", "ApproveRiskReviewInput", "approved")
    reject = _decision("rejectRiskReview", "RejectRiskReviewInput", "rejected")
    return [
        Route("/risk", console.page(queue), methods=["GET"]),
        Route("/risk/{key:int}/approve", console.action(approve), methods=["POST"]),
        Route("/risk/{key:int}/reject", console.action(reject), methods=["POST"]),
    ]
