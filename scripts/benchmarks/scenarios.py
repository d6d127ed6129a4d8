"""The GraphQL requests the benchmark sends, as body factories and response checks for `load.run_load`."""

from __future__ import annotations

import json
import random
import uuid

from graphql import parse

from api.auth import issue_token
from api.cost import operation_cost
from api.schema import build_schema
from api.settings import Settings
from api.types.ids import encode_id
from api.types.pagination import MAX_PAGE
from domain.actors import Role
from scripts.benchmarks.load import BodyFactory, Check

EARN = (
    "mutation Earn($i: PostPurchaseInput!) "
    "{ postPurchase(input: $i) { purchase { id pointsEarned } errors { code message } } }"
)
BALANCE = "query Balance { me { balance { available pending } } }"
BALANCE_AVAILABLE = "query Available { me { balance { available } } }"
CONSTANT = "query Constant { __typename }"
LEDGER_PAGE = "query Ledger { me { ledger(first: 20) { edges { node { points description } } } } }"


ENTRY_FIELDS = "id kind account points description createdAt originId"


def costliest_member_query(budget: int) -> tuple[str, int]:
    """The costliest query a member's `budget` admits, and its cost: aliased pages of the member's
    own ledger with every field of an entry (scalars cost nothing, but the server still completes
    each), full pages first, the last only as large as what is left of the budget."""
    schema = build_schema()._schema

    def query(pages: list[int]) -> str:
        fields = " ".join(
            f"p{i}: ledger(first: {size}) {{ edges {{ cursor node {{ {ENTRY_FIELDS} }} }} }}"
            for i, size in enumerate(pages)
        )
        return f"query Costliest {{ me {{ {fields} }} }}"

    def cost(pages: list[int]) -> int:
        return operation_cost(schema, parse(query(pages))) or 0

    pages: list[int] = []
    while cost([*pages, MAX_PAGE]) <= budget:
        pages.append(MAX_PAGE)
    last = next((size for size in range(MAX_PAGE, 0, -1) if cost([*pages, size]) <= budget), 0)
    if last:
        pages.append(last)
    return query(pages), cost(pages)


def earn_bodies(member_ids: list[int], merchant_ids: list[int]) -> BodyFactory:
    """Card spending as the bank's processing posts it: each request a new idempotency key, a member
    drawn from `member_ids`, 1.00-999.99 CNY, at the client's merchant (client n: merchant n mod len).

    Each load draws its own members: with one fixed sequence every load of a run would start with
    the same members, and a dozen loads in ten minutes would trip the risk velocity rule for them
    (held purchases, each with an audit record), slowing the later loads for a reason of their own."""
    run = uuid.uuid4().hex[:12]
    pick = random.Random(run)
    gids = [str(encode_id("Member", m)) for m in member_ids]
    merchants = [str(encode_id("Merchant", m)) for m in merchant_ids]

    def body(client: int, n: int) -> bytes:
        variables = {
            "i": {
                "memberId": pick.choice(gids),
                "merchantId": merchants[client % len(merchants)],
                "amount": {"amountMinor": pick.randint(100, 99_999), "currency": "CNY"},
                "idempotencyKey": f"{run}-{client}-{n}",
            }
        }
        return json.dumps({"query": EARN, "variables": variables}).encode()

    return body


def earn_succeeded(answer: bytes) -> bool:
    return b'"errors":[]' in answer and b'"pointsEarned"' in answer


def fixed_body(query: str) -> BodyFactory:
    payload = json.dumps({"query": query}).encode()
    return lambda client, n: payload


def has(marker: bytes) -> Check:
    return lambda answer: marker in answer and b'"errors"' not in answer


def page_of(size: int) -> Check:
    return lambda answer: answer.count(b'"points"') == size and b'"errors"' not in answer


class Tokens:
    def __init__(self, secret: str) -> None:
        self.settings = Settings(jwt_secret=secret)

    def processor(self) -> dict[str, str]:
        return self._header(Role.PROCESSOR, processor_id=1)

    def member(self, member_id: int) -> dict[str, str]:
        return self._header(Role.MEMBER, member_id=member_id)

    def admin(self) -> dict[str, str]:
        return self._header(Role.ADMIN)

    def console(self) -> dict[str, str]:
        """An admin's console session: its token in the session cookie."""
        return {"Cookie": f"console_session={self.admin()['Authorization'].removeprefix('Bearer ')}"}

    def _header(self, role: Role, **ids: int) -> dict[str, str]:
        token = issue_token(
            self.settings, role=role, subject=f"bench-{role.value}", ttl_seconds=6 * 3600, **ids
        )
        return {"Authorization": f"Bearer {token}"}
