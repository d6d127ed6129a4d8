"""An offer's experiment: its holdout, its variants with their weights and what each changes, and a
form that sets, changes or ends it through setOfferExperiment. The form has a fixed number of variant
rows; a row with no key is left out. What the API refuses comes back from the payload's errors and the
form shows it with what was typed."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from api.console.client import JsonObject
from api.console.ids import global_id
from api.console.web import Console, Form, Page

ROWS = 4  # variant rows on the form (the API allows up to 10; more are kept when editing)
EXPERIMENT = """experiment { experimentId startedAt holdoutShare marginRate
  variants { key weight name points multiplier percent amount { amountMinor currency } } }"""
ONE = f"""query($id: ID!) {{
  node(id: $id) {{ ... on Offer {{ id name mechanic version {EXPERIMENT} }} }}
}}"""
SET = f"""mutation($input: SetOfferExperimentInput!) {{
  setOfferExperiment(input: $input) {{ offer {{ id {EXPERIMENT} }} errors {{ code field message }} }}
}}"""


async def show(page: Page) -> Response:
    key = int(page.request.path_params["key"])
    offer = await _load(page, key)
    if offer is None:
        return page.render("missing.html", status_code=404, title="No such offer", what="offer")
    return _page(page, key, offer, _values(offer["experiment"]), [])


async def save(page: Page) -> Response:
    key = int(page.request.path_params["key"])
    offer = await _load(page, key)
    if offer is None:
        return page.render("missing.html", status_code=404, title="No such offer", what="offer")
    ending = page.form.get("end") == "1"
    values, problems = ({}, []) if ending else _read(page.form)
    if problems:
        return _page(page, key, offer, values, problems)
    answer = await page.query(
        SET, {"input": {"offerId": global_id("Offer", key), "experiment": None if ending else values}}
    )
    payload = answer.data.get("setOfferExperiment")
    if payload is None or payload["errors"]:
        return _page(page, key, offer, values, _errors(payload, answer.messages()))
    done = "ended" if ending else f"set (experiment #{payload['offer']['experiment']['experimentId']})"
    return page.redirect(f"/offers/{key}/experiment", f"Experiment {done}.")


async def _load(page: Page, key: int) -> JsonObject | None:
    answer = await page.query(ONE, {"id": global_id("Offer", key)})
    node = answer.data.get("node")
    return node if node and node.get("id") else None


def _values(experiment: JsonObject | None) -> JsonObject:
    """The form's starting values: the experiment as it stands, or a 10% holdout and one variant."""
    if experiment is None:
        return {"holdoutShare": 1_000, "marginRate": 0, "variants": []}
    return {
        "holdoutShare": experiment["holdoutShare"],
        "marginRate": experiment["marginRate"],
        "variants": [{k: v for k, v in variant.items()} for variant in experiment["variants"]],
    }


def _read(form: Form) -> tuple[JsonObject, list[str]]:
    """OfferExperimentInput from the form; what is not a number is named and nothing is sent (the
    API judges the rest: ranges, unique keys, which parameter suits the mechanic)."""
    problems: list[str] = []

    def whole(name: str, label: str) -> int | None:
        text = form.get(name)
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            problems.append(f"{label}: a whole number, please")
            return None

    variants: list[JsonObject] = []
    for i in range(len(form.getlist("key"))):
        key = form.getlist("key")[i]
        if not key:
            continue
        row = {name: (form.getlist(name) + [""] * ROWS)[i] for name in _ROW_FIELDS}
        variant: JsonObject = {"key": key, "weight": _int(row["weight"], f"Variant {key}: weight", problems)}
        if row["name"]:
            variant["name"] = row["name"]
        if row["points"]:
            variant["points"] = _int(row["points"], f"Variant {key}: points", problems)
        if row["multiplier"]:
            variant["multiplier"] = row["multiplier"]
        if row["percent"]:
            variant["percent"] = row["percent"]
        if row["amount_minor"]:
            amount = _int(row["amount_minor"], f"Variant {key}: amount", problems)
            variant["amount"] = {"amountMinor": amount, "currency": (row["amount_currency"] or "CNY").upper()}
        variants.append(variant)
    values: JsonObject = {
        "holdoutShare": whole("holdoutShare", "Holdout") or 0,
        "marginRate": whole("marginRate", "Margin") or 0,
        "variants": variants,
    }
    return values, problems


_ROW_FIELDS = ("weight", "name", "points", "multiplier", "percent", "amount_minor", "amount_currency")


def _int(text: str, label: str, problems: list[str]) -> int:
    try:
        return int(text or "0")
    except ValueError:
        problems.append(f"{label}: a whole number, please")
        return 0


def _errors(payload: JsonObject | None, messages: list[str]) -> list[str]:
    if payload is None:
        return messages or ["The API gave no answer."]
    return [f"{e['code']} {'.'.join(e['field'] or [])}: {e['message']}" for e in payload["errors"]]


def _page(page: Page, key: int, offer: JsonObject, values: JsonObject, problems: list[str]) -> Response:
    rows = list(values.get("variants") or [])
    rows += [{}] * max(ROWS - len(rows), 1 if len(rows) >= ROWS else 0)
    return page.render(
        "experiment.html",
        title=f"Experiment: {offer['name']}",
        key=key,
        offer=offer,
        experiment=offer["experiment"],
        values=values,
        rows=rows,
        errors=problems,
        status_code=422 if problems else 200,
    )


def routes(console: Console) -> list[Route]:
    return [
        Route("/offers/{key:int}/experiment", console.page(show), methods=["GET"]),
        Route("/offers/{key:int}/experiment", console.action(save), methods=["POST"]),
    ]
