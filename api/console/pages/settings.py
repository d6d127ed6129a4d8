"""Programme settings: the programme's figures (updateProgramme), and the tiers and risk rules as they
stand (read only here)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from api.console.client import JsonObject
from api.console.web import Console, Page

READ = """query {
  programme { name pointsValidityMonths expiryPolicy pendingDays transferLimitPerMonth holdMinutes
              dormantAfterDays tierWindowMonths tierGraceDays voucherValidDays closurePolicy
              closureGraceDays currencies pointValues { currency value } }
  tiers { code name rank minPoints earnMultiplier }
  riskRules { kind action limit windowMinutes currency description }
}"""
UPDATE = """mutation($input: UpdateProgrammeInput!) {
  updateProgramme(input: $input) { programme { name } errors { code field message } }
}"""
# The whole-number settings, by GraphQL name, with their labels.
NUMBERS = [
    ("pointsValidityMonths", "Points valid for (months)"),
    ("pendingDays", "Return window (days points stay pending)"),
    ("transferLimitPerMonth", "Transfer limit per member per month (points)"),
    ("holdMinutes", "POS hold lasts (minutes)"),
    ("dormantAfterDays", "Dormant after (days without activity)"),
    ("tierWindowMonths", "Tier qualification window (months)"),
    ("tierGraceDays", "Tier grace period (days)"),
    ("voucherValidDays", "Vouchers valid for (days)"),
    ("closureGraceDays", "Closed accounts keep points for (days)"),
]
CHOICES = {
    "expiryPolicy": ("Expiry policy", ["FIXED_MONTHS", "END_OF_MONTH", "END_OF_YEAR"]),
    "closurePolicy": ("On closure, points are", ["FORFEIT", "KEEP"]),
}


async def show(page: Page) -> Response:
    return await _page(page, [])


async def save(page: Page) -> Response:
    changes: JsonObject = {}
    problems: list[str] = []
    for name, label in NUMBERS:
        text = page.form.get(name)
        if text:
            try:
                changes[name] = int(text)
            except ValueError:
                problems.append(f"{label}: a whole number, please")
    for name, (label, options) in CHOICES.items():
        choice = page.form.get(name)
        if choice:
            if choice in options:
                changes[name] = choice
            else:
                problems.append(f"{label}: choose one")
    values = [
        {"currency": c, "value": v}
        for c, v in zip(page.form.getlist("pv_currency"), page.form.getlist("pv_value"), strict=False)
        if c and v
    ]
    if values:
        changes["pointValues"] = values
    if problems:
        return await _page(page, problems)
    answer = await page.query(UPDATE, {"input": changes})
    payload = answer.data.get("updateProgramme")
    if payload is None or payload["errors"]:
        reasons = (
            [f"{'.'.join(e['field'] or [])}: {e['message']}" for e in payload["errors"]]
            if payload
            else answer.messages()
        )
        return await _page(page, reasons)
    return page.redirect("/settings", "Programme settings saved.")


async def _page(page: Page, problems: list[str]) -> Response:
    answer = await page.query(READ)
    return page.render(
        "settings.html",
        title="Programme settings",
        programme=answer.need("programme"),
        tiers=answer.data.get("tiers") or [],
        rules=answer.data.get("riskRules") or [],
        numbers=NUMBERS,
        choices=CHOICES,
        errors=problems,
        status_code=422 if problems else 200,
    )


def routes(console: Console) -> list[Route]:
    return [
        Route("/settings", console.page(show), methods=["GET"]),
        Route("/settings", console.action(save), methods=["POST"]),
    ]
