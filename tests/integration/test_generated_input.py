"""Generated bad input to every query field and mutation of the schema, as every role.

The schema is walked, not listed: a new field is covered the day it is added. For each one,
Hypothesis draws variables from its argument types, mixing plausible values with the edges that
broke things before (lone surrogates, NUL, huge text, integers at and past 32 and 64 bits, NaN and
Infinity, malformed and out-of-range ids, wrong types, missing fields, null), and the request must
end without HTTP 5xx, without "Unexpected error." (a masked internal error), without an error in the
log, and, when refused, without changing anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from api.permissions import IsAuthenticated
from api.schema import build_schema
from persistence.tables import programme, programme_currencies
from tests.builders import Ids, Scenario, global_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer, partner
from tests.state import snapshot

STRAWBERRY_SCHEMA = build_schema()
SCHEMA = STRAWBERRY_SCHEMA._schema
NODE_TYPES = sorted(t.name for t in SCHEMA.get_possible_types(SCHEMA.type_map["Node"]))  # type: ignore[arg-type]
FIELDS = [
    *(("query", name, field) for name, field in SCHEMA.query_type.fields.items()),  # type: ignore[union-attr]
    *(("mutation", name, field) for name, field in SCHEMA.mutation_type.fields.items()),  # type: ignore[union-attr]
]
ROLES = ["admin", "merchant", "member", "partner", "anonymous"]


def allowed_roles(kind: str, name: str) -> list[str]:
    """The roles a field's permission classes let through, so that most requests get past them."""
    root = STRAWBERRY_SCHEMA.get_type_by_name("Query" if kind == "query" else "Mutation")
    assert root is not None
    [field] = [f for f in root.fields if STRAWBERRY_SCHEMA.config.name_converter.get_graphql_name(f) == name]
    allowed = set(ROLES)
    for permission in field.permission_classes:
        if permission is IsAuthenticated:
            allowed.discard("anonymous")
        if (roles := getattr(permission, "roles", None)) is not None:
            allowed &= {role.value for role in roles}
    return [role for role in ROLES if role in allowed]


# Requests per database and run; GENERATED_EXAMPLES=5000 for a long search.
EXAMPLES = int(os.environ.get("GENERATED_EXAMPLES", "300"))

# --- values -------------------------------------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_NOW = datetime.now(UTC)
GOOD_IDS = [global_id(name, n) for name in NODE_TYPES for n in (1, 2)]

# Values that pass GraphQL's coercion and so reach the resolvers and the use cases.
PLAUSIBLE = {
    "String": st.one_of(
        st.sampled_from(["CNY", "USD", "Coffee", "cust-1", "GOODWILL", "DINING", "ACTIVE", "k-1"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    ),
    "Int": st.integers(1, 20_000),
    "Boolean": st.booleans(),
    "ID": st.sampled_from(GOOD_IDS),
    "Decimal": st.sampled_from(["1.5", "2", "10", "50"]),
    "DateTime": st.sampled_from(
        [(_NOW + timedelta(days=d)).isoformat() for d in (-30, -1, 0, 1, 30)] + [_NOW.isoformat()]
    ),
}
# The edges: most still pass coercion (text, ids, decimals and times are strings to GraphQL), so the
# code behind the schema has to refuse them itself.
HOSTILE = {
    "String": st.one_of(
        st.sampled_from(["", " ", "\ud800", "a\udfffb", "a\x00b", "\t", "x" * 5_000, "١٢٣"]),
        st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Nd"]), min_size=1, max_size=4),
        st.text(max_size=20),
    ),
    "Int": st.one_of(
        st.sampled_from(
            [0, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**53, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]
        ),
        st.sampled_from(["NaN", "Infinity", "1", 1.5]),
    ),
    "Boolean": st.sampled_from(["true", 1, 0]),
    "ID": st.one_of(
        st.sampled_from(
            [
                global_id("Member", 0),
                global_id("Member", 2**63),
                global_id("Member", 2**63 - 1),
                global_id("Member", "1_0"),
                global_id("Member", "١"),
                global_id("Member", " 1"),
                global_id("LedgerEntry", 1),
                global_id("Nope", 1),
                "not base64!",
                "\ud800",
                "",
            ]
        ),
        st.text(max_size=8),
    ),
    "Decimal": st.sampled_from(
        ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-1", "0", "0.00001", "1" * 40, "abc", 1.5]
    ),
    "DateTime": st.one_of(
        st.sampled_from(
            [
                "0001-01-01T00:00:00+00:00",
                "9999-12-31T23:59:59+00:00",
                (_NOW - timedelta(days=91)).isoformat(),
                (_NOW + timedelta(minutes=10)).isoformat(),
                "2026-01-01T00:00:00",
                "not a time",
                "",
            ]
        ),
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    ),
}


ENUM_HOSTILE = st.sampled_from(["NOPE", "", "active", 1, None])


def plausible(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that pass GraphQL's coercion: required fields present, optional ones now and then."""
    if isinstance(type_, GraphQLNonNull):
        return plausible(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        return st.lists(plausible(type_.of_type, depth + 1), max_size=2)
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        required = {
            n: plausible(f.type, depth + 1)
            for n, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
        optional = {n: plausible(f.type, depth + 1) for n, f in type_.fields.items() if n not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(list(type_.values))
    assert isinstance(type_, GraphQLScalarType), type_
    return PLAUSIBLE[type_.name]


def hostile(type_: GraphQLInputType) -> st.SearchStrategy[Any]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return weighted(HOSTILE[named.name], JUNK, 5)
    if isinstance(named, GraphQLEnumType):
        return ENUM_HOSTILE
    return JUNK  # an input object or a list replaced by a wrong type, or null


def weighted(
    common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int
) -> st.SearchStrategy[Any]:
    """`rare` about once in `one_in` draws (one_of would not say how often)."""
    return st.sampled_from(range(one_in)).flatmap(lambda n: rare if n == one_in - 1 else common)


Path = tuple[str | int, ...]


def spots(type_: GraphQLInputType, value: Any, path: Path) -> list[tuple[Path, GraphQLInputType]]:
    """Every place in `value` that a hostile value could take, with its type."""
    found: list[tuple[Path, GraphQLInputType]] = [(path, type_)]
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList) and isinstance(value, list):
        for index, item in enumerate(value):
            found += spots(inner.of_type, item, (*path, index))
    elif isinstance(inner, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in inner.fields.items():
            found += spots(field.type, value.get(name), (*path, name))
    return found


def _is_list(type_: GraphQLInputType) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


def put(container: Any, path: Path, value: Any) -> None:
    *parents, last = path
    for step in parents:
        container = container[step]
    container[last] = value


def document(kind: str, name: str, field: GraphQLField) -> str:
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    returned = get_named_type(field.type)
    selection = ""
    if not is_leaf_type(returned):
        has_errors = isinstance(returned, GraphQLObjectType) and "errors" in returned.fields
        selection = "{ __typename errors { code field message } }" if has_errors else "{ __typename }"
    head = f"{kind}({declared})" if declared else kind
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {selection} }}"


def arguments(field: GraphQLField, data: st.DataObject) -> dict[str, Any]:
    """Plausible arguments with one or two values made hostile, so that the rest of the request
    gets past GraphQL to the code that must refuse the bad one."""
    required = {n: plausible(a.type) for n, a in field.args.items() if isinstance(a.type, GraphQLNonNull)}
    optional = {n: plausible(a.type) for n, a in field.args.items() if n not in required}
    variables: dict[str, Any] = data.draw(
        st.fixed_dictionaries(required, optional=optional), label="plausible"
    )
    places = [p for name, a in field.args.items() for p in spots(a.type, variables.get(name), (name,))]
    if not places:
        return variables
    # Mostly a leaf, which keeps the rest of the input plausible; now and then a whole object or list.
    scalar_places = [(path, t) for path, t in places if is_leaf_type(get_named_type(t)) and not _is_list(t)]
    where = (
        weighted(st.sampled_from(scalar_places), st.sampled_from(places), 10)
        if scalar_places
        else st.sampled_from(places)
    )
    for _ in range(data.draw(weighted(st.just(1), st.just(2), 4), label="hostile values")):
        path, type_ = data.draw(where, label="where")
        with contextlib.suppress(KeyError, IndexError, TypeError):  # a parent was replaced already
            put(variables, path, data.draw(hostile(type_), label="hostile"))
    return variables


# --- the world the requests land in -------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str | None]


@pytest.fixture
async def world(given: Scenario, backend: Backend) -> AsyncIterator[World]:
    """One of each thing, so that generated ids of the right type find real rows. The programme's
    settings, which the suite keeps between tests, are put back afterwards: updateProgramme is one
    of the mutations called."""
    saved = await _programme(backend)
    merchant = await given.merchant()
    alice = await given.funded_member(5_000)
    await given.funded_member(500)
    bank = await partner(given)
    reward = await given.reward(cost_points=100, stock=10)
    assert (await given.purchase(merchant, alice, 10_000, key="seed"))["errors"] == []
    assert (await given.redeem(alice, reward, key="seed"))["errors"] == []
    offer = await create_offer(
        given,
        name="Seed",
        mechanic="BONUS_POINTS",
        points=10,
        funding=[{"kind": "PARTNER", "funderId": bank.gid, "percent": 100}],
    )
    assert offer["errors"] == []
    yield World(
        tokens={
            "anonymous": None,
            "member": given.tokens.member(alice.raw),
            "merchant": given.tokens.merchant(merchant.raw),
            "partner": given.tokens.partner(Ids(bank.gid).raw),
            "admin": given.admin,
        }
    )
    await _restore_programme(backend, saved)


async def _programme(backend: Backend) -> dict[str, list[dict[str, Any]]]:
    async with backend.database.read_engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in await conn.execute(select(table))]
            for table in (programme, programme_currencies)
        }


async def _restore_programme(backend: Backend, saved: dict[str, list[dict[str, Any]]]) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(delete(programme_currencies))
        await conn.execute(insert(programme_currencies), saved[programme_currencies.name])
        for row in saved[programme.name]:
            settings_ = {k: v for k, v in row.items() if k not in ("id", "catalogue_version")}
            await conn.execute(
                update(programme)
                .where(programme.c.id == row["id"])
                .values(**settings_, catalogue_version=programme.c.catalogue_version + 1)
            )


def is_refusal(body: dict[str, Any], name: str) -> tuple[bool, bool]:
    """(refused, refused as invalid input): invalid input stores nothing at all; a business
    rejection is recorded under its idempotency key, so that a retry replays it."""
    if body.get("errors"):
        return True, True
    payload = (body.get("data") or {}).get(name)
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors:
        return True, all(e["code"] == "VALIDATION" for e in errors)
    return False, False


async def send_and_check(
    backend: Backend,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    kind: str,
    name: str,
    field: GraphQLField,
    variables: dict[str, Any],
) -> None:
    """No 5xx, no masked internal error, nothing logged as an error; a query changes nothing, and
    a refused mutation changes nothing (a business rejection only records its idempotency key)."""
    before = await snapshot(backend.database)
    caplog.clear()

    body = json.dumps({"query": document(kind, name, field), "variables": variables}).encode()
    headers = {"content-type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    response = await http.post("/graphql", content=body, headers=headers)

    sent = f"{name} {variables!r:.300}: {response.status_code} {response.text:.500}"
    assert response.status_code < 500, sent
    assert "Unexpected error." not in response.text, sent
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [], sent
    after = await snapshot(backend.database)
    refused, invalid = is_refusal(response.json(), name)
    if refused and not invalid:
        after["idempotency_keys"] = before["idempotency_keys"]
    if kind == "query" or refused:
        assert after == before, sent


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(data=st.data())
async def test_generated_input_never_breaks_the_api(
    backend: Backend,
    http: httpx.AsyncClient,
    world: World,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    kind, name, field = data.draw(st.sampled_from(FIELDS), label="field")
    role = data.draw(
        weighted(st.sampled_from(allowed_roles(kind, name)), st.sampled_from(ROLES), 4), label="role"
    )
    variables = arguments(field, data)

    await send_and_check(backend, http, caplog, world.tokens[role], kind, name, field, variables)


# --- every argument, one edge at a time ---------------------------------------------------------

# One representative of each kind of edge, for every leaf of every argument: Hypothesis finds the
# combinations, this makes sure no single place is missed.
EDGES: dict[str, list[Any]] = {
    "String": ["\ud800", "a\x00b", "x" * 5_000],
    "Int": [2**31 - 1, -(2**31), 0],
    "ID": [
        global_id("Member", 2**63),
        global_id("LedgerEntry", 1),
        global_id("Member", "0001"),
        "not base64!",
    ],
    "Decimal": ["NaN", "-Infinity", "1e999999"],
    "DateTime": ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"],
}
# Plausible values by argument name, so that the request gets as far as the edge.
BY_NAME: dict[str, Any] = {
    "currency": "CNY",
    "phone": "+8613800138000",
    "email": "a@example.com",
    "category": "DINING",
}
ID_TYPES = {"funder": "PartnerBrand", "partner": "PartnerBrand", "id": "Tier", "tier": "Tier"}


def default(name: str, type_: GraphQLInputType, serial: int) -> Any:
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if named.name == "ID":
        stem = name[:-3] if name.endswith("Ids") else name[:-2] if name.endswith("Id") else name
        value = global_id(ID_TYPES.get(stem, stem[:1].upper() + stem[1:]), 1)
        return [value] if _is_list(type_) else value
    if name in BY_NAME:
        return BY_NAME[name]
    value = {
        "String": f"{name}-{serial}",  # unique, for idempotency keys and business keys
        "Int": 100,
        "Boolean": False,
        "Decimal": "1.5",
        "DateTime": datetime.now(UTC).isoformat(),
    }.get(named.name)
    return [value] if _is_list(type_) else value


def minimal(name: str, type_: GraphQLInputType, serial: int, through: Path = ()) -> Any:
    """The required fields of `type_`, plus whatever lies on the way to `through`."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList) and not is_leaf_type(get_named_type(inner)):
        return [minimal(name, inner.of_type, serial, through[1:] if through else ())]
    if isinstance(inner, GraphQLInputObjectType):
        value = {}
        for field_name, field in inner.fields.items():
            on_path = bool(through) and through[0] == field_name
            if on_path or (isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined):
                value[field_name] = minimal(field_name, field.type, serial, through[1:] if on_path else ())
        return value
    return default(name, type_, serial)


def leaves(
    type_: GraphQLInputType, path: Path = (), inside: frozenset[str] = frozenset()
) -> list[tuple[Path, GraphQLInputType]]:
    """Each scalar or enum place in `type_` (through the first item of lists of objects); an input
    type inside itself (a segment rule's rules) is walked once."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList) and not is_leaf_type(get_named_type(inner)):
        return leaves(inner.of_type, (*path, 0), inside)
    if isinstance(inner, GraphQLInputObjectType):
        if inner.name in inside:
            return []
        within = inside | {inner.name}
        return [
            leaf for name, field in inner.fields.items() for leaf in leaves(field.type, (*path, name), within)
        ]
    return [(path, type_)]


def edge_cases(field: GraphQLField) -> list[dict[str, Any]]:
    """For every leaf of every argument and every edge of its type: the least input that carries it."""
    cases: list[dict[str, Any]] = []
    for argument, arg in field.args.items():
        for path, leaf_type in leaves(arg.type):
            for edge in EDGES.get(get_named_type(leaf_type).name, []):
                serial = len(cases) + 1
                variables = {
                    name: minimal(name, a.type, serial, path if name == argument else ())
                    for name, a in field.args.items()
                    if name == argument or isinstance(a.type, GraphQLNonNull)
                }
                put(variables, (argument, *path), [edge] if _is_list(leaf_type) else edge)
                cases.append(variables)
    return cases


async def test_every_argument_refuses_every_edge(
    backend: Backend, http: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for kind, name, field in FIELDS:
        token = world.tokens[allowed_roles(kind, name)[0]]
        for variables in edge_cases(field):
            await send_and_check(backend, http, caplog, token, kind, name, field, variables)
