"""Segments: the list, and a rule builder that previews its size (segmentPreview) before saving it
(createSegment). The builder edits one level of conditions joined by "all" or "any", the shape most
segments have; nested rules are shown as they are and kept by the API.

The conditions are rows of (field, operator, value, category). Without script, "Add a condition"
posts the form back with one more row; console.js adds the row in place instead."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from api.console import charts
from api.console.client import JsonObject
from api.console.ids import local_id
from api.console.web import Console, Form, Page

LIST = """query($after: String) {
  segments(first: 20, after: $after, status: ACTIVE) {
    edges { node { id name description kind size refreshedAt version sizes(days: 30) { day size } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PREVIEW = """query($rules: SegmentRuleInput!) {
  segmentPreview(rules: $rules, sample: 10) { size sample { id externalRef displayName } }
}"""
CREATE = """mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id name size } errors { code field message } }
}"""

FIELDS = [
    ("PURCHASES_30D", "Purchases, last 30 days"),
    ("PURCHASES_90D", "Purchases, last 90 days"),
    ("PURCHASES_365D", "Purchases, last 365 days"),
    ("SPEND_30D", "Spend, last 30 days (minor units)"),
    ("SPEND_90D", "Spend, last 90 days (minor units)"),
    ("SPEND_365D", "Spend, last 365 days (minor units)"),
    ("DAYS_SINCE_LAST_PURCHASE", "Days since last purchase"),
    ("DAYS_SINCE_ENROLMENT", "Days since enrolment"),
    ("CATEGORY_PURCHASES_90D", "Purchases in a category, 90 days"),
    ("CATEGORY_SPEND_365D", "Spend in a category, 365 days"),
    ("AVAILABLE_POINTS", "Available points"),
    ("LIFETIME_EARNED", "Points earned, lifetime"),
    ("BIRTH_YEAR", "Birth year"),
    ("LIFECYCLE_STAGE", "Lifecycle stage"),
    ("TIER", "Tier code"),
    ("STATUS", "Status"),
    ("REGION", "Region"),
    ("INCOME_BAND", "Income band"),
    ("TAG", "Tag"),
]
TEXT_FIELDS = {"LIFECYCLE_STAGE", "TIER", "STATUS", "REGION", "INCOME_BAND", "TAG"}
OPERATORS = [
    ("GTE", "at least"),
    ("GT", "more than"),
    ("LTE", "at most"),
    ("LT", "less than"),
    ("EQ", "is"),
    ("NE", "is not"),
    ("IN", "is one of (comma-separated)"),
    ("NOT_IN", "is none of (comma-separated)"),
]
CATEGORIES = [
    "DINING",
    "GROCERY",
    "RETAIL",
    "ONLINE_SHOPPING",
    "TRAVEL",
    "TRANSPORT",
    "ENTERTAINMENT",
    "EDUCATION",
    "HEALTHCARE",
    "UTILITIES",
    "OTHER",
]


@dataclass(frozen=True)
class Row:
    field: str = "PURCHASES_90D"
    op: str = "GTE"
    value: str = ""
    category: str = ""


def rows_of(form: Form) -> list[Row]:
    fields, ops = form.getlist("field"), form.getlist("op")
    values, categories = form.getlist("value"), form.getlist("category")
    rows = [Row(f, o, v, c) for f, o, v, c in zip(fields, ops, values, categories, strict=False) if v or c]
    return rows or [Row()]


def condition(row: Row) -> JsonObject:
    """A row as SegmentConditionInput: a number for numeric fields, a list for IN and NOT_IN, else a
    text. The API validates the rest (an operator the field does not take, a missing category)."""
    made: JsonObject = {"field": row.field, "op": row.op}
    if row.category:
        made["category"] = row.category
    if row.field not in TEXT_FIELDS:
        try:
            made["number"] = int(row.value)
        except ValueError:
            made["text"] = row.value  # refused by the API with its own message, on this condition
    elif row.op in ("IN", "NOT_IN"):
        made["values"] = [v.strip() for v in row.value.split(",") if v.strip()]
    else:
        made["text"] = row.value
    return made


def rules_of(rows: list[Row], join: str) -> JsonObject:
    conditions = [{"condition": condition(row)} for row in rows]
    return conditions[0] if len(conditions) == 1 else {join: conditions}


async def segment_list(page: Page) -> Response:
    return await _page(page, [Row()], "all", preview=None, problems=[])


async def build(page: Page) -> Response:
    """The builder's form: add a row, preview, or save."""
    rows, join = rows_of(page.form), page.form.get("join", "all")
    join = join if join in ("all", "any") else "all"
    doing = page.form.get("do", "preview")
    if doing == "add":
        return await _page(page, [*rows, Row()], join, preview=None, problems=[])
    rules = rules_of(rows, join)
    if doing == "save":
        name = page.form.get("name")
        if not name:
            return await _page(page, rows, join, preview=None, problems=["Name: required to save"])
        description = page.form.get("description") or None
        answer = await page.query(
            CREATE, {"input": {"name": name, "description": description, "rules": rules}}
        )
        payload = answer.data.get("createSegment")
        if payload is None or payload["errors"]:
            problems = (
                [f"{'.'.join(e['field'] or [])}: {e['message']}" for e in payload["errors"]]
                if payload
                else answer.messages()
            )
            return await _page(page, rows, join, preview=None, problems=problems)
        return page.redirect("/segments", f"Segment “{name}” saved: {payload['segment']['size']} members.")
    answer = await page.query(PREVIEW, {"rules": rules})
    preview = answer.data.get("segmentPreview")
    return await _page(page, rows, join, preview=preview, problems=answer.messages())


def _trend(segment: JsonObject) -> Markup:
    sizes = [day["size"] for day in segment["sizes"]]
    if not sizes:
        return Markup("")
    days = len(sizes)
    title = f"{segment['name']}: {sizes[0]:,} to {sizes[-1]:,} members over {days} day{'s' * (days != 1)}"
    return charts.sparkline(title, sizes)


async def _page(
    page: Page, rows: list[Row], join: str, preview: JsonObject | None, problems: list[str]
) -> Response:
    answer = await page.query(LIST, {"after": page.param("after") or None})
    connection = answer.need("segments")
    segments = [{**edge["node"], "trend": _trend(edge["node"])} for edge in connection["edges"]]
    sample = [{**m, "key": local_id(m["id"])} for m in (preview or {}).get("sample", [])]
    return page.render(
        "segments.html",
        title="Segments",
        segments=segments,
        page_info=connection["pageInfo"],
        rows=rows,
        join=join,
        preview=preview,
        sample=sample,
        fields=FIELDS,
        operators=OPERATORS,
        categories=CATEGORIES,
        name=page.form.get("name"),
        description=page.form.get("description"),
        errors=problems,
        status_code=422 if problems else 200,
    )


def routes(console: Console) -> list[Route]:
    return [
        Route("/segments", console.page(segment_list), methods=["GET"]),
        Route("/segments", console.action(build), methods=["POST"]),
    ]
