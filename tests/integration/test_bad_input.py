"""Bad input at the edges: never HTTP 5xx, never "Unexpected error.", never a traceback in the log,
never a change. Each refusal is typed: 400 for a body that is not JSON, VALIDATION in a mutation's
payload, BAD_USER_INPUT (or null) for a query, UNAUTHENTICATED for a token."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.auth import issue_token
from api.settings import Settings
from domain.actors import Role
from tests.builders import ENROLL, Scenario, global_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer
from tests.state import snapshot

MEMBER = "query($id: ID!) { member(id: $id) { id externalRef } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
CREATE_MERCHANT = """mutation($input: CreateMerchantInput!) {
  createMerchant(input: $input) { merchant { id } errors { code field message } }
}"""
LOCK = """mutation($input: LockMemberInput!) { lockMember(input: $input) { errors { code field } } }"""
MEMBERS_BY_REF = """query($ref: String!) {
  members(filter: {externalRef: $ref}) { edges { node { id } } }
}"""


async def escaped_post(given: Scenario, query: str, variables: dict[str, Any]) -> Any:
    """As the admin, with the body in ASCII: JSON escapes ("\\ud800") carry what UTF-8 cannot."""
    response = await raw_post(
        given.gql.http, json.dumps({"query": query, "variables": variables}).encode(), given.admin
    )
    assert response.status_code == 200, response.text
    return response.json()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def raw_post(http: httpx.AsyncClient, body: bytes, token: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await http.post("/graphql", content=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "{ __typename }"}\xff', id="invalid UTF-8 outside strings"),
        pytest.param(b'{"query": "{ __typename \xc3\x28 }"}', id="invalid UTF-8 in the query text"),
        pytest.param(
            b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
            id="50,000 nested lists in variables",
        ),
        pytest.param(b'{"query": "{ __typename }", "variables": {"v": NaN}}', id="NaN literal"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"v": -Infinity}}', id="Infinity literal"),
    ],
)
async def test_a_body_that_is_not_json_is_a_400_with_a_graphql_error(
    backend: Backend, given: Scenario, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    before = await snapshot(backend.database)

    response = await raw_post(http, body, given.admin)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"].startswith("The request body")
    assert no_tracebacks(caplog) == []
    assert await snapshot(backend.database) == before


@pytest.mark.parametrize("bad", ["a\ud800b", "\udfff", "a\x00b"], ids=["lone high", "lone low", "NUL"])
async def test_unstorable_text_in_a_mutation_is_validation_in_the_payload(
    backend: Backend, given: Scenario, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    before = await snapshot(backend.database)

    enrolled = (await escaped_post(given, ENROLL, {"input": {"externalRef": bad}}))["data"]
    merchant = (await escaped_post(given, CREATE_MERCHANT, {"input": {"name": bad, "category": "DINING"}}))[
        "data"
    ]

    assert [(e["code"], e["field"]) for e in enrolled["enrollMember"]["errors"]] == [
        ("VALIDATION", ["externalRef"])
    ]
    assert [(e["code"], e["field"]) for e in merchant["createMerchant"]["errors"]] == [
        ("VALIDATION", ["name"])
    ]
    assert no_tracebacks(caplog) == []
    assert await snapshot(backend.database) == before


@pytest.mark.parametrize("bad", ["a\ud800b", "a\x00b"], ids=["lone surrogate", "NUL"])
async def test_unstorable_text_in_a_query_argument_finds_nothing(
    given: Scenario, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    await given.member("a")

    body = await escaped_post(given, MEMBERS_BY_REF, {"ref": bad})

    assert "Unexpected error." not in str(body)
    assert body.get("data") is None or body["data"]["members"]["edges"] == []
    if "errors" in body:
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert no_tracebacks(caplog) == []


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "sNaN"])
async def test_a_non_finite_number_is_refused(
    backend: Backend, given: Scenario, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    before = await snapshot(backend.database)

    multiplier = await create_offer(
        given,
        name="Double",
        mechanic="POINTS_MULTIPLIER",
        multiplier=bad,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    percent = await create_offer(
        given,
        name="Cashback",
        mechanic="CASHBACK_POINTS",
        percent=bad,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    as_int = await given.gql.post(
        "mutation($i: PostPurchaseInput!) { postPurchase(input: $i) { errors { code } } }",
        {
            "i": {
                "memberId": member.gid,
                "amount": {"amountMinor": bad, "currency": "CNY"},
                "idempotencyKey": "k",
            }
        },
        given.tokens.merchant(merchant.raw),
    )

    assert [(e["code"], e["field"]) for e in multiplier["errors"]] == [("VALIDATION", ["multiplier"])]
    assert [(e["code"], e["field"]) for e in percent["errors"]] == [("VALIDATION", ["percent"])]
    assert as_int["data"] is None
    assert "cannot represent" in as_int["errors"][0]["message"]
    assert no_tracebacks(caplog) == []
    assert await snapshot(backend.database) == before


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_only_the_canonical_id_resolves(given: Scenario, caplog: pytest.LogCaptureFixture) -> None:
    members = [await given.member(f"m-{n}") for n in range(1, 11)]
    assert [m.raw for m in members] == list(range(1, 11))

    canonical = await given.gql.data(MEMBER, {"id": members[0].gid}, given.admin)
    lookalikes = {
        text: await given.gql.post(MEMBER, {"id": encoded(text)}, given.admin)
        for text in [
            "Member:1_0",
            "Member: 1",
            "Member:0001",
            "Member:١",
            "Member:+1",
            "Member:1 ",
            "Member:٣",
        ]
    }

    assert canonical["member"]["externalRef"] == "m-1"
    assert {text: body for text, body in lookalikes.items() if body != {"data": {"member": None}}} == {}
    assert no_tracebacks(caplog) == []


@pytest.mark.parametrize("number", [2**63, 2**64, 10**40])
async def test_an_id_past_64_bits_is_null_for_a_query_and_validation_for_a_mutation(
    backend: Backend, given: Scenario, caplog: pytest.LogCaptureFixture, number: int
) -> None:
    merchant = await given.merchant()
    before = await snapshot(backend.database)
    member_id = global_id("Member", number)

    read = await given.gql.post(MEMBER, {"id": member_id}, given.admin)
    node = await given.gql.post(NODE, {"id": member_id}, given.admin)
    posted = await given.card_purchase(merchant, member_id, 1_000, key="k")

    assert read == {"data": {"member": None}}
    assert node == {"data": {"node": None}}
    assert posted["purchase"] is None
    assert [(e["code"], e["field"]) for e in posted["errors"]] == [("VALIDATION", ["memberId"])]
    assert no_tracebacks(caplog) == []
    assert await snapshot(backend.database) == before


@pytest.mark.parametrize(
    "type_name", ["LedgerEntry", "Programme", "Nope", "PageInfo", "MemberConnection", "member"]
)
async def test_a_node_id_of_no_node_type_is_bad_user_input(
    given: Scenario, caplog: pytest.LogCaptureFixture, type_name: str
) -> None:
    await given.member()

    body = await given.gql.post(NODE, {"id": global_id(type_name, 1)}, given.admin)

    assert body["data"] == {"node": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert no_tracebacks(caplog) == []


# `Member:1` is TWVtYmVyOjE=; each of these decodes to it, or would with a lenient decoder.
LOOKALIKE_TEXTS = {
    "stray character": "TWVt!YmVyOjE=",
    "no padding": "TWVtYmVyOjE",
    "padding bits set": "TWVtYmVyOjF=",
    "leading space": " TWVtYmVyOjE=",
    "trailing newline": "TWVtYmVyOjE=\n",
    "data after padding": "TWVtYmVyOjE=TWVt",
    "not base64 at all": "not base64 at all!",
    "no colon": encoded("Member1"),
    "no type": encoded(":1"),
    "a number": 1,
}


@pytest.mark.parametrize("text", list(LOOKALIKE_TEXTS.values()), ids=list(LOOKALIKE_TEXTS))
async def test_only_the_id_text_the_api_emits_is_taken(
    backend: Backend, given: Scenario, caplog: pytest.LogCaptureFixture, text: str | int
) -> None:
    member = await given.member()
    assert member.gid == "TWVtYmVyOjE="
    lock = {"input": {"memberId": text, "reason": "test"}}
    before = await snapshot(backend.database)

    read = await given.gql.post(MEMBER, {"id": text}, given.admin)
    node = await given.gql.post(NODE, {"id": text}, given.admin)
    locked = await given.gql.post(LOCK, lock, given.admin)
    literal = await given.gql.post(f"query {{ member(id: {json.dumps(text)}) {{ id }} }}", {}, given.admin)

    for body in (read, node, locked, literal):
        assert body["data"] is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "not an id this API issued" in body["errors"][0]["message"]
    assert no_tracebacks(caplog) == []
    assert await snapshot(backend.database) == before


@pytest.mark.parametrize("member_id", [2**63, 2**64 + 1, 10**30])
async def test_a_token_with_an_id_past_64_bits_is_unauthenticated(
    given: Scenario, settings: Settings, caplog: pytest.LogCaptureFixture, member_id: int
) -> None:
    token = issue_token(settings, role=Role.MEMBER, subject="m", member_id=member_id)

    body = await given.gql.post("query { me { id balance { available } } }", token=token)

    assert body["data"] in (None, {"me": None})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert no_tracebacks(caplog) == []


# Times relative to when the test runs (not when it is collected: a long suite reaches it minutes later).
@pytest.mark.parametrize(
    ("occurred_at", "accepted"),
    [
        (lambda: datetime(1, 1, 1, tzinfo=UTC), False),
        (lambda: datetime.now(UTC) - timedelta(days=91), False),
        (lambda: datetime.now(UTC) - timedelta(days=89), True),
        (lambda: datetime.now(UTC) + timedelta(minutes=2), True),
        (lambda: datetime.now(UTC) + timedelta(minutes=10), False),
        (lambda: datetime(9999, 12, 31, 23, 59, tzinfo=UTC), False),
    ],
)
async def test_occurred_at_is_at_most_90_days_back_and_5_minutes_ahead(
    backend: Backend, given: Scenario, occurred_at: Callable[[], datetime], accepted: bool
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.member_ref(merchant, member)  # the member linked itself to the shop
    before = await snapshot(backend.database)

    posted = await given.purchase(merchant, member, 10_000, key="k", occurredAt=occurred_at().isoformat())

    if accepted:
        assert posted["errors"] == []
        assert posted["purchase"]["pointsEarned"] == 100
    else:
        assert [(e["code"], e["field"]) for e in posted["errors"]] == [("VALIDATION", ["occurredAt"])]
        assert await snapshot(backend.database) == before
        assert (await given.balance(member))["lifetimeEarned"] == 0


async def test_several_operations_without_an_operation_name_are_refused(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    document = """
      query Read { __typename }
      mutation Adjust($input: AdjustPointsInput!) { adjustPoints(input: $input) { errors { code } } }
    """
    variables = {
        "input": {"memberId": member.gid, "points": 5, "reasonCode": "GOODWILL", "idempotencyKey": "k"}
    }
    before = await snapshot(backend.database)

    unnamed = await given.gql.http.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {given.admin}"},
    )
    named = await given.gql.http.post(
        "/graphql",
        json={"query": document, "variables": variables, "operationName": "Read"},
        headers={"Authorization": f"Bearer {given.admin}"},
    )

    assert unnamed.status_code == 200
    assert unnamed.json()["data"] is None
    assert [e["extensions"]["code"] for e in unnamed.json()["errors"]] == ["BAD_USER_INPUT"]
    assert "operationName" in unnamed.json()["errors"][0]["message"]
    assert named.json() == {"data": {"__typename": "Query"}}
    assert await snapshot(backend.database) == before


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        pytest.param(
            "query($f: MemberFiltr) { members(filter: $f) { edges { node { id } } } }", {}, id="type"
        ),
        pytest.param("query { members(firts: 1) { edges { node { id } } } }", {}, id="argument"),
        pytest.param(
            "query { members(filter: {status: ACTIV}) { edges { node { id } } } }", {}, id="enum literal"
        ),
        pytest.param(
            "query($f: MemberFilter) { members(filter: $f) { edges { node { id } } } }",
            {"f": {"status": "ACTIV"}},
            id="enum variable",
        ),
        pytest.param(
            "query { members(filter: {statu: ACTIVE}) { edges { node { id } } } }",
            {},
            id="input field literal",
        ),
        pytest.param(
            "query($f: MemberFilter) { members(filter: $f) { edges { node { id } } } }",
            {"f": {"statu": "ACTIVE"}},
            id="input field variable",
        ),
        pytest.param("query { membrs { edges { node { id } } } }", {}, id="field"),
    ],
)
async def test_no_error_message_suggests_a_name(
    given: Scenario, document: str, variables: dict[str, Any]
) -> None:
    body = await given.gql.post(document, variables, given.admin)

    assert body["data"] is None
    messages = [e["message"] for e in body["errors"]]
    assert messages
    assert not [m for m in messages if "did you mean" in m.lower()], messages
