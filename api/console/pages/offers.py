"""Offers and campaigns: the list, create, edit, pause and resume. The form covers what a marketer
sets most (name, mechanic, window, reward figures, one funder, limits); editing keeps every other part
of the offer's definition as it stands, since updateOffer replaces the whole definition."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from api.console.client import JsonObject
from api.console.ids import global_id, local_id
from api.console.web import Console, Form, Page, View

OFFER_FIELDS = """id version name mechanic status startsAt endsAt timeZone daysOfWeek fromHour toHour
  points multiplier percent amount { amountMinor currency } threshold { amountMinor currency }
  cap { amountMinor currency } merchantIds categories partnerIds channels
  minimumSpend { amountMinor currency } newMembersWithinDays firstPurchase
  segment { regions incomeBands anyTags bornFrom bornTo }
  funding { kind funderId percent } budgetPoints budgetMoney { amountMinor currency } maxUses
  perMember perMemberPeriod exclusiveGroup priority requiresCoupon trigger referrerPoints
  referredOnly tierIds segmentIds dormantOnly usage { pointsUsed moneyUsedMinor uses }"""

LIST = """query($first: Int!, $after: String, $filter: OfferFilter) {
  offers(first: $first, after: $after, filter: $filter) {
    edges { node { id name mechanic status startsAt endsAt budgetPoints
                   usage { pointsUsed uses } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ONE = f"query($id: ID!) {{ node(id: $id) {{ ... on Offer {{ {OFFER_FIELDS} }} }} }}"
CREATE = """mutation($input: CreateOfferInput!) {
  createOffer(input: $input) { offer { id } errors { code field message } }
}"""
UPDATE = """mutation($input: UpdateOfferInput!) {
  updateOffer(input: $input) { offer { id } errors { code field message } }
}"""
STATUS = """mutation($input: %(input)s!) {
  %(name)s(input: $input) { offer { id status } errors { code field message } }
}"""

MECHANICS = [
    "BONUS_POINTS",
    "POINTS_MULTIPLIER",
    "INSTANT_DISCOUNT",
    "SPEND_AND_SAVE",
    "PERCENT_DISCOUNT",
    "CASHBACK_POINTS",
    "CASHBACK_MONEY",
]
FUNDERS = {"PROGRAMME": None, "MERCHANT": "Merchant", "PARTNER": "PartnerBrand"}
PAGE_SIZE = 25
# CreateOfferInput's fields an edit carries over from the offer as read (the form sets the others).
KEPT_AS_THEY_ARE = [
    *("name", "mechanic", "startsAt", "endsAt", "timeZone", "daysOfWeek", "fromHour", "toHour"),
    *("points", "multiplier", "percent", "merchantIds", "categories", "partnerIds", "channels"),
    *("newMembersWithinDays", "firstPurchase", "exclusiveGroup", "priority", "requiresCoupon"),
    *("trigger", "referrerPoints", "referredOnly", "tierIds", "segmentIds", "dormantOnly"),
]


async def offer_list(page: Page) -> Response:
    status = page.param("status")
    variables = {
        "first": PAGE_SIZE,
        "after": page.param("after") or None,
        "filter": {"status": status} if status else None,
    }
    answer = await page.query(LIST, variables)
    connection = answer.need("offers")
    rows = [{**edge["node"], "key": local_id(edge["node"]["id"])} for edge in connection["edges"]]
    return page.render(
        "offers.html",
        title="Offers and campaigns",
        rows=rows,
        page_info=connection["pageInfo"],
        status=status,
        statuses=["ACTIVE", "PAUSED", "ARCHIVED"],
        errors=answer.messages(),
    )


async def new_offer(page: Page) -> Response:
    return _form(page, None, _blank(), [])


async def create(page: Page) -> Response:
    values, problems = _read(page.form, _blank())
    if problems:
        return _form(page, None, values, problems)
    answer = await page.query(CREATE, {"input": values})
    payload = answer.data.get("createOffer")
    if payload is None or payload["errors"]:
        return _form(page, None, values, _errors(payload, answer.messages()))
    return page.redirect("/offers", f"Offer “{values['name']}” created.")


async def edit(page: Page) -> Response:
    key = int(page.request.path_params["key"])
    offer = await _load(page, key)
    if offer is None:
        return page.render("missing.html", status_code=404, title="No such offer", what="offer")
    return _form(page, key, definition(offer), [])


async def update(page: Page) -> Response:
    key = int(page.request.path_params["key"])
    offer = await _load(page, key)
    if offer is None:
        return page.render("missing.html", status_code=404, title="No such offer", what="offer")
    values, problems = _read(page.form, definition(offer))
    if problems:
        return _form(page, key, values, problems)
    answer = await page.query(UPDATE, {"input": {"offerId": global_id("Offer", key), "offer": values}})
    payload = answer.data.get("updateOffer")
    if payload is None or payload["errors"]:
        return _form(page, key, values, _errors(payload, answer.messages()))
    return page.redirect("/offers", f"Offer “{values['name']}” saved as a new version.")


def _status_change(mutation: str, input_type: str, done: str) -> View:
    async def change(page: Page) -> Response:
        key = int(page.request.path_params["key"])
        answer = await page.query(
            STATUS % {"input": input_type, "name": mutation}, {"input": {"offerId": global_id("Offer", key)}}
        )
        payload = answer.data.get(mutation)
        if payload is None or payload["errors"]:
            problem = "; ".join(_errors(payload, answer.messages()))
            return page.redirect("/offers", f"Nothing changed: {problem}")
        return page.redirect("/offers", f"Offer {done}.")

    return change


async def _load(page: Page, key: int) -> JsonObject | None:
    answer = await page.query(ONE, {"id": global_id("Offer", key)})
    node = answer.data.get("node")
    return node if node and node.get("id") else None


def definition(offer: JsonObject) -> JsonObject:
    """The offer as it stands, in CreateOfferInput's shape: what an edit starts from and keeps."""
    money = ("amount", "threshold", "cap", "minimumSpend")
    kept = KEPT_AS_THEY_ARE
    values: JsonObject = {name: offer[name] for name in kept}
    values.update({name: offer[name] for name in money})
    values["segment"] = offer["segment"]
    values["funding"] = offer["funding"]
    values["limits"] = {
        "budgetPoints": offer["budgetPoints"],
        "budgetMoney": offer["budgetMoney"],
        "maxUses": offer["maxUses"],
        "perMember": offer["perMember"],
        "perMemberPeriod": offer["perMemberPeriod"],
    }
    return values


def _blank() -> JsonObject:
    return {
        "name": "",
        "mechanic": "BONUS_POINTS",
        "startsAt": "",
        "endsAt": "",
        "points": 0,
        "multiplier": "1",
        "percent": "0",
        "amount": None,
        "threshold": None,
        "funding": [{"kind": "PROGRAMME", "funderId": None, "percent": 100}],
        "limits": {"budgetPoints": None, "maxUses": None, "perMember": None, "perMemberPeriod": "OFFER"},
    }


def _read(form: Form, start: JsonObject) -> tuple[JsonObject, list[str]]:
    """The form's fields over `start`; what cannot be read is named, and nothing is sent."""
    values = dict(start)
    problems: list[str] = []

    def whole(name: str, label: str, *, optional: bool = False) -> int | None:
        text = form.get(name)
        if text == "" and optional:
            return None
        try:
            return int(text or "0")
        except ValueError:
            problems.append(f"{label}: a whole number, please")
            return None

    def money(prefix: str, label: str) -> JsonObject | None:
        amount = whole(f"{prefix}_minor", label, optional=True)
        currency = form.get(f"{prefix}_currency").upper()
        return None if amount is None else {"amountMinor": amount, "currency": currency or "CNY"}

    values["name"] = form.get("name")
    values["mechanic"] = form.get("mechanic", "BONUS_POINTS")
    values["startsAt"] = _utc(form.get("startsAt"))
    values["endsAt"] = _utc(form.get("endsAt"))
    values["points"] = whole("points", "Points") or 0
    values["multiplier"] = form.get("multiplier") or "1"
    values["percent"] = form.get("percent") or "0"
    values["amount"] = money("amount", "Amount")
    values["threshold"] = money("threshold", "Threshold")
    if len(start.get("funding") or []) <= 1:  # a split between funders is kept as it is
        kind = form.get("funder_kind", "PROGRAMME")
        funder_type = FUNDERS.get(kind)
        funder = whole("funder_id", "Funder id", optional=True)
        if kind not in FUNDERS:
            problems.append("Funder: choose one")
        elif funder_type is not None and funder is None:
            problems.append("Funder id: a merchant or partner brand funds this offer; name it")
        values["funding"] = [
            {
                "kind": kind,
                "funderId": global_id(funder_type, funder) if funder_type and funder else None,
                "percent": 100,
            }
        ]
    limits = dict(values.get("limits") or {})
    limits["budgetPoints"] = whole("budgetPoints", "Budget (points)", optional=True)
    limits["maxUses"] = whole("maxUses", "Uses at most", optional=True)
    limits["perMember"] = whole("perMember", "Uses per member", optional=True)
    values["limits"] = limits
    if not values["name"]:
        problems.append("Name: required")
    if not values["startsAt"] or not values["endsAt"]:
        problems.append("Starts and Ends: both required")
    return values, problems


def _utc(text: str) -> str:
    """A datetime-local field (minutes, no zone) read as UTC, as the form's label says."""
    if not text:
        return ""
    return text if text.endswith("Z") or "+" in text else f"{text}:00Z" if len(text) == 16 else f"{text}Z"


def _errors(payload: JsonObject | None, messages: list[str]) -> list[str]:
    if payload is None:
        return messages or ["The API gave no answer."]
    return [f"{'.'.join(e['field'] or []) or e['code']}: {e['message']}" for e in payload["errors"]]


def _form(page: Page, key: int | None, values: JsonObject, problems: list[str]) -> Response:
    funding = (values.get("funding") or [{}])[0]
    return page.render(
        "offer_form.html",
        title="Edit offer" if key else "New offer",
        key=key,
        offer=values,
        funder_kind=funding.get("kind", "PROGRAMME"),
        funder_id=local_id(funding["funderId"]) if funding.get("funderId") else "",
        limits=values.get("limits") or {},
        mechanics=MECHANICS,
        funders=list(FUNDERS),
        errors=problems,
        status_code=200 if not problems else 422,
    )


def routes(console: Console) -> list[Route]:
    pause = _status_change("pauseOffer", "PauseOfferInput", "paused")
    resume = _status_change("resumeOffer", "ResumeOfferInput", "resumed")
    return [
        Route("/offers", console.page(offer_list), methods=["GET"]),
        Route("/offers/new", console.page(new_offer), methods=["GET"]),
        Route("/offers/new", console.action(create), methods=["POST"]),
        Route("/offers/{key:int}/edit", console.page(edit), methods=["GET"]),
        Route("/offers/{key:int}/edit", console.action(update), methods=["POST"]),
        Route("/offers/{key:int}/pause", console.action(pause), methods=["POST"]),
        Route("/offers/{key:int}/resume", console.action(resume), methods=["POST"]),
    ]
