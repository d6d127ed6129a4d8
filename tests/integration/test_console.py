"""The console at /console on both databases: every page needs an admin's session, other roles and
forged sessions are refused, form posts need the session's CSRF token and the same origin, and each
page reads and writes through the GraphQL API (contact revealed only on a post, and audited; offers
created and paused; a segment previewed; a risk review approved; the audit log read)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from api.console import POLICY
from api.console.pages import arms, campaigns
from api.console.session import COOKIE, csrf_token
from api.console.web import basis_points, minor, points
from tests.builders import Ids, Scenario
from tests.conftest import Tokens
from tests.integration.test_experiments import earn, listed, planted, start, trial
from tests.integration.test_security_headers import directives

pytestmark = pytest.mark.asyncio

PHONE, EMAIL = "+8613812345678", "li.wei@example.cn"
PAGES = ["/console/members", "/console/offers", "/console/segments", "/console/risk", "/console/audit",
         "/console/settings"]  # fmt: skip
PERSONAL_READS = """query { auditLog(first: 50, filter: {action: "personal_data.read"}) {
  edges { node { actor memberId after } } } }"""
OFFER_STATUS = "query($id: ID!) { node(id: $id) { ... on Offer { name status budgetPoints points } } }"
OFFER_EXPERIMENT = """query($id: ID!) { node(id: $id) { ... on Offer {
  version experiment { holdoutShare marginRate variants { key weight name percent } } } } }"""
REVIEWS = "query { riskReviews(first: 10) { edges { node { id status points } } } }"


async def sign_in(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/console/sign-in", data={"token": token, "next": "/console/members"})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def number(gid: str) -> int:
    return Ids(gid).raw


async def test_pages_need_a_session_and_say_where_to_sign_in(http: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/console/sign-in?next={path.replace('/', '%2F')}"
    form = await http.get("/console/sign-in")
    assert form.status_code == 200
    assert '<label for="token">Admin token</label>' in form.text


async def test_only_an_admin_signs_in_and_the_session_cookie_is_strict(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    member = await given.member()
    for token in (tokens.member(member.raw), tokens.partner(1), tokens.merchant(1), "not-a-token"):
        refused = await sign_in(http, token)
        assert refused.status_code == 403, refused.text
        assert "set-cookie" not in refused.headers
        assert (await http.get("/console/members")).status_code == 303

    signed_in = await sign_in(http, tokens.admin())
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console/members"
    cookie = signed_in.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("httponly", "samesite=strict", "path=/console"):
        assert attribute in cookie
    assert "expires" not in cookie
    assert "max-age" not in cookie
    assert "secure" not in cookie  # http here; set when the console is reached over https
    for path in PAGES:
        page = await http.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "<h1>" in page.text


async def test_a_session_holding_another_roles_token_is_refused(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    merchant = {"cookie": f"{COOKIE}={tokens.merchant(1)}"}
    for path in PAGES:
        assert (await http.get(path, headers=merchant)).status_code == 403, path
    response = await http.get("/console/members", headers={"cookie": f"{COOKIE}=forged.token.here"})
    assert response.status_code == 303  # refused: back to the sign-in form, cookie cleared
    assert f'{COOKIE}=""' in response.headers["set-cookie"]


async def test_console_pages_have_a_strict_policy_and_their_own_files(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    await sign_in(http, tokens.admin())
    page = await http.get("/console/members")
    policy = directives(page.headers["content-security-policy"])
    assert page.headers["content-security-policy"] == POLICY
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text
    assert " style=" not in page.text
    script = await http.get("/console/static/console.js")
    assert script.status_code == 200
    assert "addEventListener" in script.text
    assert (await http.get("/console/static/console.css")).status_code == 200
    assert (await http.get("/console/static/../templates/base.html")).status_code == 404


async def test_contact_is_masked_until_revealed_and_the_reveal_is_audited(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    member = await given.member("CONSOLE-1", phone=PHONE, email=EMAIL)
    await sign_in(http, tokens.admin("support@console"))

    found = await http.get("/console/members", params={"by": "externalRef", "q": "CONSOLE-1"})
    assert f'href="/console/members/{member.raw}"' in found.text
    assert PHONE not in found.text
    assert "+86*******5678" in found.text

    detail = await http.get(f"/console/members/{member.raw}")
    assert detail.status_code == 200
    assert PHONE not in detail.text
    assert EMAIL not in detail.text
    assert "Reveal contact" in detail.text
    reads = await given.gql.data(PERSONAL_READS, token=given.admin)
    assert reads["auditLog"]["edges"] == []  # viewing the page read no contact

    refused = await http.post(f"/console/members/{member.raw}/reveal", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert PHONE not in refused.text
    revealed = await http.post(f"/console/members/{member.raw}/reveal", data={"csrf": csrf_of(detail)})
    assert revealed.status_code == 200
    assert PHONE in revealed.text
    assert EMAIL in revealed.text
    reads = await given.gql.data(PERSONAL_READS, token=given.admin)
    assert [(e["node"]["actor"], e["node"]["memberId"]) for e in reads["auditLog"]["edges"]] == [
        ("support@console", member.gid)
    ]
    log = await http.get("/console/audit", params={"action": "personal_data.read"})
    assert "personal_data.read" in log.text
    assert "support@console" in log.text


async def test_posts_from_another_origin_or_without_the_token_change_nothing(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    await sign_in(http, tokens.admin())
    form = await http.get("/console/offers/new")
    offer = _offer_form(csrf_of(form), "Cross-site offer")
    elsewhere = await http.post("/console/offers/new", data=offer, headers={"origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    cross_site = await http.post("/console/offers/new", data=offer, headers={"sec-fetch-site": "cross-site"})
    assert cross_site.status_code == 403
    sign_in_elsewhere = await http.post(
        "/console/sign-in", data={"token": tokens.admin()}, headers={"sec-fetch-site": "same-site"}
    )
    assert sign_in_elsewhere.status_code == 403
    assert "set-cookie" not in sign_in_elsewhere.headers
    missing = await http.post("/console/offers/new", data={**offer, "csrf": ""})
    assert missing.status_code == 403
    other_session = await http.post(
        "/console/offers/new", data={**offer, "csrf": csrf_token(tokens.admin("someone-else"))}
    )
    assert other_session.status_code == 403
    offers = await given.gql.data("query { offers(first: 10) { edges { node { id } } } }", token=given.admin)
    assert offers["offers"]["edges"] == []


def _offer_form(csrf: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "csrf": csrf,
        "name": name,
        "mechanic": "BONUS_POINTS",
        "startsAt": "2026-01-01T00:00",
        "endsAt": "2036-01-01T00:00",
        "points": "50",
        "multiplier": "1",
        "percent": "0",
        "amount_minor": "",
        "amount_currency": "CNY",
        "threshold_minor": "",
        "threshold_currency": "CNY",
        "funder_kind": "PROGRAMME",
        "funder_id": "",
        "budgetPoints": "10000",
        "maxUses": "",
        "perMember": "",
        **fields,
    }


async def test_an_offer_is_created_edited_paused_and_shown_on_its_dashboard(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    await sign_in(http, tokens.admin())
    form = await http.get("/console/offers/new")
    bad = await http.post("/console/offers/new", data=_offer_form(csrf_of(form), "Bad", points="lots"))
    assert bad.status_code == 422
    assert "Points: a whole number" in bad.text
    created = await http.post("/console/offers/new", data=_offer_form(csrf_of(form), "Double Eleven"))
    assert created.status_code == 303, created.text
    listing = await http.get(created.headers["location"])
    assert "Offer “Double Eleven” created." in listing.text
    offers = await given.gql.data("query { offers(first: 1) { edges { node { id } } } }", token=given.admin)
    offer_gid = offers["offers"]["edges"][0]["node"]["id"]
    key = number(offer_gid)

    edit = await http.get(f"/console/offers/{key}/edit")
    assert 'value="Double Eleven"' in edit.text
    assert 'value="2026-01-01T00:00"' in edit.text
    saved = await http.post(
        f"/console/offers/{key}/edit", data=_offer_form(csrf_of(edit), "Double Eleven", points="80")
    )
    assert saved.status_code == 303, saved.text
    paused = await http.post(f"/console/offers/{key}/pause", data={"csrf": csrf_of(edit)})
    assert paused.status_code == 303
    offer = await given.gql.data(OFFER_STATUS, {"id": offer_gid}, given.admin)
    assert offer["node"] == {"name": "Double Eleven", "status": "PAUSED", "budgetPoints": 10000, "points": 80}

    dashboard = await http.get(f"/console/campaigns/{key}")
    assert dashboard.status_code == 200
    assert "<svg" in dashboard.text
    assert "Budget used" in dashboard.text
    assert "0 of 10,000 points (0%)" in dashboard.text
    assert (await http.get("/console/campaigns/999999")).status_code == 404


async def test_a_segment_rule_is_previewed_then_saved(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    for n in range(3):
        await given.funded_member(100 * (n + 1))  # 100, 200 and 300 points available
    await sign_in(http, tokens.admin())
    page = await http.get("/console/segments")
    rule = {
        "csrf": csrf_of(page),
        "join": "all",
        "field": "AVAILABLE_POINTS",
        "op": "GTE",
        "value": "200",
        "category": "",
    }
    preview = await http.post("/console/segments", data={**rule, "do": "preview"})
    assert preview.status_code == 200, preview.text
    assert re.search(r"<strong>2</strong> members match now", preview.text)
    wrong = await http.post("/console/segments", data={**rule, "op": "IN", "do": "preview"})
    assert wrong.status_code == 422
    assert "AVAILABLE_POINTS compares with" in wrong.text
    added = await http.post("/console/segments", data={**rule, "do": "add"})
    assert added.text.count('<li class="condition">') == 2
    saved = await http.post("/console/segments", data={**rule, "do": "save", "name": "Rich"})
    assert saved.status_code == 303
    listing = await http.get(saved.headers["location"])
    assert "Segment “Rich” saved: 2 members." in listing.text


async def test_a_held_earning_is_approved_from_the_queue(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    merchant, member = await given.merchant(), await given.member()
    held = await given.card_purchase(merchant, member.gid, 40_000_000, key="big-one")  # over the CNY rule
    assert held["errors"] == [], held
    reviews = await given.gql.data(REVIEWS, token=given.admin)
    review = reviews["riskReviews"]["edges"][0]["node"]
    assert review["status"] == "OPEN"
    await sign_in(http, tokens.admin("risk@console"))
    key = number(review["id"])
    detail = await http.get(f"/console/members/{member.raw}")
    assert f"Approve review {key}" in detail.text  # the member's own holds
    other = await given.member()
    assert f"Approve review {key}" not in (await http.get(f"/console/members/{other.raw}")).text
    queue = await http.get("/console/risk")
    assert f"Approve review {key}" in queue.text
    approved = await http.post(f"/console/risk/{key}/approve", data={"csrf": csrf_of(queue)})
    assert approved.status_code == 303
    again = await http.post(f"/console/risk/{key}/approve", data={"csrf": csrf_of(queue)})
    assert again.status_code == 303  # the same key: replayed, decided once
    reviews = await given.gql.data(REVIEWS, token=given.admin)
    assert reviews["riskReviews"]["edges"][0]["node"]["status"] == "APPROVED"
    assert (await given.balance(member))["available"] == review["points"]
    log = await http.get("/console/audit", params={"actor": "risk@console"})
    assert log.text.count("<td>approveRiskReview</td>") == 1  # audited once, with the console admin's name


async def test_programme_settings_are_changed_through_the_api(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    await sign_in(http, tokens.admin())
    page = await http.get("/console/settings")
    assert 'name="holdMinutes"' in page.text
    bad = await http.post("/console/settings", data={"csrf": csrf_of(page), "holdMinutes": "soon"})
    assert bad.status_code == 422
    saved = await http.post("/console/settings", data={"csrf": csrf_of(page), "holdMinutes": "45"})
    assert saved.status_code == 303, saved.text
    programme = await given.gql.data("query { programme { holdMinutes } }", token=given.admin)
    assert programme["programme"]["holdMinutes"] == 45


MEMBER_REVIEWS = (
    """query($m: ID!) { riskReviews(first: 10, filter: {memberId: $m}) { edges { node { id } } } }"""
)


async def test_the_review_queue_filters_by_member(given: Scenario) -> None:
    merchant, held, other = await given.merchant(), await given.member(), await given.member()
    assert (await given.card_purchase(merchant, held.gid, 40_000_000, key="held"))["errors"] == []
    assert (await given.card_purchase(merchant, other.gid, 100, key="small"))["errors"] == []
    mine = await given.gql.data(MEMBER_REVIEWS, {"m": held.gid}, given.admin)
    assert len(mine["riskReviews"]["edges"]) == 1
    theirs = await given.gql.data(MEMBER_REVIEWS, {"m": other.gid}, given.admin)
    assert theirs["riskReviews"]["edges"] == []
    wrong = await given.gql.post(MEMBER_REVIEWS, {"m": merchant.gid}, given.admin)
    assert wrong["data"] is None
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_notice_is_shown_once_and_never_taken_from_the_url(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    await sign_in(http, tokens.admin())
    page = await http.get("/console/settings", params={"notice": "Call +1 555 0100 to verify your account"})
    assert "555 0100" not in page.text
    saved = await http.post("/console/settings", data={"csrf": csrf_of(page), "holdMinutes": "30"})
    assert "notice" not in saved.headers["location"]
    assert "Programme settings saved." in (await http.get(saved.headers["location"])).text
    assert "Programme settings saved." not in (await http.get(saved.headers["location"])).text


CREATE_OFFER = """mutation($i: CreateOfferInput!) {
  createOffer(input: $i) { offer { id } errors { message } }
}"""
PARTNER = 'mutation { createPartnerBrand(input: {name: "Sky Air", kind: AIRLINE}) { partnerBrand { id } } }'
KEPT = """query($id: ID!) { node(id: $id) { ... on Offer {
  version points categories channels daysOfWeek fromHour toHour priority exclusiveGroup
  segment { regions anyTags bornFrom } funding { kind funderId percent } perMember perMemberPeriod
} } }"""


async def test_editing_an_offer_keeps_what_the_form_does_not_show(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    partner = await given.gql.data(PARTNER, token=given.admin)
    partner_id = partner["createPartnerBrand"]["partnerBrand"]["id"]
    offer = {
        "name": "Lunch, weekdays",
        "mechanic": "BONUS_POINTS",
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2036-01-01T00:00:00Z",
        "points": 20,
        "categories": ["DINING"],
        "channels": ["OFFLINE"],
        "daysOfWeek": [1, 2, 3, 4, 5],
        "fromHour": 11,
        "toHour": 14,
        "priority": 3,
        "exclusiveGroup": "lunch",
        "segment": {"regions": ["Shanghai"], "anyTags": ["coffee"], "bornFrom": 1980},
        "funding": [
            {"kind": "PROGRAMME", "percent": 40},
            {"kind": "PARTNER", "funderId": partner_id, "percent": 60},
        ],
        "limits": {"perMember": 2, "perMemberPeriod": "WEEK"},
    }
    created = await given.gql.data(CREATE_OFFER, {"i": offer}, given.admin)
    gid = created["createOffer"]["offer"]["id"]
    before = (await given.gql.data(KEPT, {"id": gid}, given.admin))["node"]

    await sign_in(http, tokens.admin())
    edit = await http.get(f"/console/offers/{number(gid)}/edit")
    assert "Shared by PROGRAMME 40%, PARTNER 60%; kept as it is." in edit.text
    form = _offer_form(csrf_of(edit), "Lunch, weekdays", points="30", budgetPoints="", perMember="2")
    saved = await http.post(f"/console/offers/{number(gid)}/edit", data=form)
    assert saved.status_code == 303, saved.text

    after = (await given.gql.data(KEPT, {"id": gid}, given.admin))["node"]
    assert after == {**before, "version": before["version"] + 1, "points": 30}


async def test_a_members_ledger_pages_back_through_older_movements(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    member = await given.member()
    for n in range(23):  # adjustments of 1 to 23 points: 23 movements, newest the largest
        assert (await given.adjust(member, n + 1, key=f"adjust-{n}"))["errors"] == []
    await sign_in(http, tokens.admin())
    first = await http.get(f"/console/members/{member.raw}")
    older = re.search(r'href="(/console/members/\d+\?ledger=[^"#]+)#ledger">Older movements', first.text)
    assert older, first.text
    second = await http.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "Older movements" not in second.text
    assert "Newest</a>" in second.text
    rows = re.findall(r"<td>ADJUST</td><td>MEMBER_AVAILABLE</td><td class=\"num\">(\d+)</td>", first.text)
    rest = re.findall(r"<td>ADJUST</td><td>MEMBER_AVAILABLE</td><td class=\"num\">(\d+)</td>", second.text)
    assert [int(p) for p in rows + rest] == list(range(23, 0, -1))


# --- experiments: the dashboard's arms and the offer's experiment form --------------------------------


async def test_the_dashboard_shows_each_arms_figures_as_the_api_reports_them(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    t = await trial(given)
    await start(given, t)
    spend = planted(t)
    for member in t.members:
        await listed(given, member)  # assigned
        if spend[member.raw]:
            await earn(given, t.merchant, member, spend[member.raw], key=f"in-{member.raw}")
    await sign_in(http, tokens.admin())
    variables = {"id": t.offer.gid, "granularity": "DAY"}
    report = (await given.gql.data(campaigns.REPORT, variables, given.admin))["campaignReport"]
    experiment = report["experiment"]
    assert [a["arm"] for a in experiment["arms"]] == ["five", "eight", "holdout"]
    assert sum(a["assigned"] for a in experiment["arms"]) == 16

    page = await http.get(f"/console/campaigns/{t.offer.raw}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "no-experiment" not in text
    for arm in experiment["arms"]:
        share = arm["participants"] * 10_000 // arm["assigned"]
        top = max(a["participants"] * 10_000 // a["assigned"] for a in experiment["arms"])
        assert f'width="{share * 280 // top}" height="22"/>' in text  # its bar, scaled to the largest
        assert f">{basis_points(share)}</text>" in text, arm["arm"]
        cells = [arm["arm"], points(arm["assigned"]), points(arm["exposed"]), points(arm["participants"])]
        assert "<tr>" + "".join(f"<td>{c}</td>" for c in cells) in text, arm["arm"]
        if arm["holdout"]:
            assert arm["incrementalSpendPerMember"] is None
            continue
        for interval in (arm["incrementalSpendPerMember"], arm["cuped"], arm["alwaysValid"]):
            assert f"<td>{arms._money(interval['estimate'], 'CNY')}</td>" in text, arm["arm"]
        assert f"<td>{minor(arm['costMinor'], 'CNY')}</td>" in text
        assert f"<td>{arms._money(arm['incrementalSpend'], 'CNY')}</td>" in text
    spent = sum(p["costMinor"] for p in experiment["series"])
    assert spent == sum(a["costMinor"] for a in experiment["arms"]) > 0
    assert f"{minor(spent, 'CNY')} in the period" in text
    titles = ["Conversion by arm against the holdout", "Incremental spend per member", "Always-valid",
              "Sample ratio check", "Return on cost", "Cost by funder, per arm",
              "Budget burn over time"]  # fmt: skip
    for title in titles:
        assert title in text, title
    assert "Sample ratio mismatch" not in text  # an even 8 / 4 / 4 split, as designed
    assert '<polyline class="series"' in text
    hourly = await http.get(f"/console/campaigns/{t.offer.raw}", params={"granularity": "HOUR"})
    assert "Budget burn over time (by hour)" in hourly.text


async def test_an_offer_without_an_experiment_shows_the_empty_state(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    t = await trial(given, members=0)
    await sign_in(http, tokens.admin())
    page = await http.get(f"/console/campaigns/{t.offer.raw}")
    assert page.status_code == 200
    assert 'id="no-experiment"' in page.text
    assert "Conversion by arm" not in page.text


async def test_the_experiment_form_sets_one_and_a_bad_one_shows_the_typed_error_and_changes_nothing(
    http: httpx.AsyncClient, tokens: Tokens, given: Scenario
) -> None:
    t = await trial(given, members=0)
    await sign_in(http, tokens.admin())
    path = f"/console/offers/{t.offer.raw}/experiment"
    form = await http.get(path)
    assert form.status_code == 200
    assert 'id="no-experiment"' in form.text
    rows = {"key": ["five", "eight", "", ""], "weight": ["1", "3", "", ""],
            "name": ["", "Eight back", "", ""], "percent": ["5", "8", "", ""], "points": [""] * 4,
            "multiplier": [""] * 4, "amount_minor": [""] * 4, "amount_currency": ["CNY"] * 4}  # fmt: skip
    csrf = csrf_of(form)
    bad = await http.post(path, data={"csrf": csrf, "holdoutShare": "5001", "marginRate": "0", **rows})
    assert bad.status_code == 422
    assert "VALIDATION holdoutShare:" in bad.text
    assert 'value="5001"' in bad.text  # what was typed is kept
    offer = (await given.gql.data(OFFER_EXPERIMENT, {"id": t.offer.gid}, given.admin))["node"]
    assert offer == {"version": 1, "experiment": None}
    typo = await http.post(path, data={"csrf": csrf, "holdoutShare": "ten", "marginRate": "0", **rows})
    assert typo.status_code == 422
    assert "Holdout: a whole number" in typo.text

    saved = await http.post(path, data={"csrf": csrf, "holdoutShare": "1000", "marginRate": "3000", **rows})
    assert saved.status_code == 303, saved.text
    shown = await http.get(saved.headers["location"])
    assert "Experiment set (experiment #2)." in shown.text
    assert "10.00% of members are not offered it" in shown.text
    assert "<td>Eight back</td>" in shown.text
    assert "percent 8% " in shown.text
    offer = (await given.gql.data(OFFER_EXPERIMENT, {"id": t.offer.gid}, given.admin))["node"]
    assert offer["experiment"] == {
        "holdoutShare": 1000,
        "marginRate": 3000,
        "variants": [
            {"key": "five", "weight": 1, "name": None, "percent": "5"},
            {"key": "eight", "weight": 3, "name": "Eight back", "percent": "8"},
        ],
    }
    ended = await http.post(path, data={"csrf": csrf_of(shown), "end": "1"})
    assert ended.status_code == 303
    offer = (await given.gql.data(OFFER_EXPERIMENT, {"id": t.offer.gid}, given.admin))["node"]
    assert offer["experiment"] is None
