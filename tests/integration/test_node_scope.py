"""node(id) shows each role exactly what that role's lists show it, for every Node type the schema has,
and a nested field shows another object only to a role that may read that object by its id.

One world is built through the API: a member with one of everything, a merchant and a partner brand
involved in it, and another of each that is not. Then every object is read as every role."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from domain.clock import FixedClock
from domain.services.expiry import run_expiry
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario, global_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer
from tests.integration.test_refunds import refund
from tests.integration.test_tiers import create_tier
from tests.integration.test_transfers import transfer
from tests.pos_steps import Pos

ROLES = (
    "anonymous",
    "member",  # owns the history below
    "other_member",
    "merchant",  # the purchase, the refund and the POS hold are its; it funds the offers
    "other_merchant",
    "partner",  # funds the offers
    "other_partner",
    "admin",
)
AUTHENTICATED = frozenset(ROLES) - {"anonymous"}
HISTORY = frozenset({"member", "admin"})
TRADED = HISTORY | {"merchant"}
FUNDED = frozenset({"merchant", "partner", "admin"})

NODE = "query($id: ID!) { node(id: $id) { id } }"
SCHEMA = """{ __schema { types {
  name interfaces { name }
  fields { name args { defaultValue type { kind } }
           type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
} } }"""
REACH = """fragment Reach on Member {
  id
  ledger(first: 20) { edges { node { originId } } }
  redemptions(first: 20) { edges { node { id } } }
  eligibleOffers(first: 20) { edges { node { id } } }
}"""
CATALOGUE = """
  offers(first: 20) { edges { node { id } } }
  rewards(first: 20) { edges { node { id } } }
  merchants(first: 20) { edges { node { id } } }
  partnerBrands(first: 20) { edges { node { id } } }
  tiers { id }"""
# One condition: the field matrix reads a segment's rules one level deep (rules hold rules).
SEGMENT_RULES = {
    "condition": {"field": "CATEGORY_SPEND_365D", "op": "GTE", "number": 0, "category": "DINING"}
}
CREATE_SEGMENT = """mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id } errors { code } }
}"""
CREATE_PARTNER = """mutation($input: CreatePartnerBrandInput!) {
  createPartnerBrand(input: $input) { partnerBrand { id } errors { code } }
}"""
PAUSE = "mutation($input: PauseOfferInput!) { pauseOffer(input: $input) { errors { code } } }"


def type_of(gid: str) -> str:
    return base64.b64decode(gid).decode().split(":", 1)[0]


@dataclass
class World:
    given: Scenario
    tokens: dict[str, str | None]
    members: list[str]
    # (what it is, its id, the roles that may read it)
    objects: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    # What each role's own mutations handed it: a merchant lists its purchases, refunds and POS holds
    # nowhere else.
    handed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


async def partner_brand(given: Scenario, name: str) -> Ids:
    data = await given.gql.data(CREATE_PARTNER, {"input": {"name": name, "kind": "OTHER"}}, given.admin)
    return Ids(data["createPartnerBrand"]["partnerBrand"]["id"])


async def build(backend: Backend, given: Scenario) -> World:
    partner = await partner_brand(given, "Bank of Tea")
    other_partner = await partner_brand(given, "Bank of Coffee")
    merchant = await given.merchant("Tea House")
    other_merchant = await given.merchant("Rival")
    tier = await create_tier(given, code="CLASSIC", name="Classic", rank=1)
    assert tier["errors"] == [], tier
    segment = await given.gql.data(
        CREATE_SEGMENT, {"input": {"name": "Not closed", "rules": SEGMENT_RULES}}, given.admin
    )
    assert segment["createSegment"]["errors"] == [], segment
    funded_by_both = [
        {"kind": "MERCHANT", "funderId": merchant.gid, "percent": 50},
        {"kind": "PARTNER", "funderId": partner.gid, "percent": 50},
    ]
    sign_up = await create_offer(
        given,
        name="Welcome",
        mechanic="BONUS_POINTS",
        points=20,
        trigger="SIGN_UP",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
        limits={"budgetPoints": 1_000},
    )
    member = await given.member(
        "alice",
        phone="13812345678",
        email="alice@example.cn",
        profile={"birthYear": 1990, "region": "north", "incomeBand": "HIGH", "tags": ["tea"]},
    )
    other_member = await given.member("bob", profile={"region": "south"})
    friend = await given.member("carol")
    live = await create_offer(
        given,
        name="North: 30 bonus points",
        mechanic="BONUS_POINTS",
        points=30,
        funding=funded_by_both,
        segment={"regions": ["north"]},
        limits={"budgetPoints": 1_000},
    )
    paused = await create_offer(
        given, name="Autumn", mechanic="BONUS_POINTS", points=10, funding=funded_by_both
    )
    for created in (sign_up, live, paused):
        assert created["errors"] == [], created
    pause = await given.gql.data(PAUSE, {"input": {"offerId": paused["offer"]["id"]}}, given.admin)
    assert pause["pauseOffer"]["errors"] == []
    coffee = await given.reward("Coffee", cost_points=50)
    mug = await given.reward("Mug", cost_points=40)

    world = World(
        given=given,
        tokens={
            "anonymous": None,
            "member": given.tokens.member(member.raw),
            "other_member": given.tokens.member(other_member.raw),
            "merchant": given.tokens.merchant(merchant.raw),
            "other_merchant": given.tokens.merchant(other_merchant.raw),
            "partner": given.tokens.partner(partner.raw),
            "other_partner": given.tokens.partner(other_partner.raw),
            "admin": given.admin,
        },
        members=[member.gid, other_member.gid, friend.gid],
    )

    posted = await given.purchase(merchant, member, 50_000, key="p1")
    assert posted["errors"] == [], posted
    purchase = posted["purchase"]["id"]
    refunded = await refund(given, merchant, purchase, "r1", amount=10_000)
    assert refunded["errors"] == [], refunded
    world.handed["merchant"] |= {purchase, refunded["refund"]["id"]}
    assert (await transfer(given, member, "t1", points=25, toExternalRef="carol"))["errors"] == []
    later = FixedClock(datetime.now(UTC) + timedelta(days=3 * 366))
    await run_expiry(lambda: SqlAlchemyUnitOfWork(backend.database.write_engine), later)
    adjusted = await given.adjust(member, 1_000, key="a1")
    assert adjusted["errors"] == [], adjusted
    redeemed = await given.redeem(member, mug, key="x1")
    assert redeemed["errors"] == [], redeemed
    hold = await Pos(given).hold(merchant, member, 100, key="h1")
    world.handed["merchant"].add(hold)
    # The mug leaves the catalogue: the member's redemption of it no longer shows it.
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(text("UPDATE rewards SET active = false WHERE id = :id"), {"id": mug.raw})

    origins = await reach(world, "admin")
    [transferred] = origins["Transfer"]
    [expired] = [g for g in origins["Expiration"] if g in await ledger_of(world, member.gid)]
    [awarded] = [g for g in origins["MemberAward"] if g in await ledger_of(world, member.gid)]

    world.objects = [
        ("the member", member.gid, TRADED),
        ("its purchase at the merchant", purchase, TRADED),
        ("the merchant's refund of it", refunded["refund"]["id"], TRADED),
        ("a POS hold at the merchant", hold, TRADED),
        ("its redemption of a reward", redeemed["redemption"]["id"], HISTORY),
        ("an adjustment", adjusted["adjustment"]["id"], HISTORY),
        ("its transfer to a friend", transferred, HISTORY),
        ("its expired points", expired, HISTORY),
        ("its sign-up bonus", awarded, HISTORY),
        ("a live offer both fund, for its region", live["offer"]["id"], FUNDED | {"member"}),
        ("a paused offer both fund", paused["offer"]["id"], FUNDED),
        # No profile condition: me.eligibleOffers lists it to every active member.
        ("the sign-up offer", sign_up["offer"]["id"], frozenset({"member", "other_member", "admin"})),
        ("an active reward", coffee.gid, AUTHENTICATED),
        ("a retired reward", mug.gid, frozenset({"admin"})),
        ("the merchant", merchant.gid, AUTHENTICATED),
        ("the partner brand", partner.gid, AUTHENTICATED),
        ("a tier", tier["tier"]["id"], AUTHENTICATED),
        ("a segment", segment["createSegment"]["segment"]["id"], frozenset({"admin"})),
    ]
    return world


async def ledger_of(world: World, member_gid: str) -> set[str]:
    data = await world.given.gql.data(
        "query($id: ID!) { member(id: $id) { ledger(first: 20) { edges { node { originId } } } } }",
        {"id": member_gid},
        world.given.admin,
    )
    return {e["node"]["originId"] for e in data["member"]["ledger"]["edges"]}


def ids(connection: dict[str, Any] | None) -> list[str]:
    return [] if connection is None else [edge["node"]["id"] for edge in connection["edges"]]


async def reach(world: World, role: str) -> dict[str, set[str]]:
    """Every id the role's list queries show it, by type: the root lists, the members it may look up
    (admins list them; a member is `me`; others ask `member(id)`) and those members' own lists."""
    token = world.tokens[role]
    if role == "admin":
        members = (
            "members(first: 20) { edges { node { ...Reach } } } segments(first: 20) { edges { node { id } } }"
        )
    elif role in ("member", "other_member"):
        members = "me { ...Reach }"
    else:
        members = " ".join(f'm{i}: member(id: "{gid}") {{ ...Reach }}' for i, gid in enumerate(world.members))
    body = await world.given.gql.post(f"query {{ {members} {CATALOGUE} }}\n{REACH}", token=token)
    found: dict[str, set[str]] = defaultdict(set)
    for gid in world.handed[role]:
        found[type_of(gid)].add(gid)
    if token is None:
        # Nothing is reached: refused for want of a token, or before that for its cost.
        assert body.get("data") is None or not any(body["data"].values()), body
        assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "QUERY_TOO_COSTLY"}, (
            body
        )
        return found
    data = body["data"]
    assert "errors" not in body, body
    reached = [e["node"] for e in data["members"]["edges"]] if "members" in data else []
    looked_up = [m for key, m in data.items() if key == "me" or (key[0] == "m" and key[1:].isdigit())]
    reached += [m for m in looked_up if m is not None]
    for m in reached:
        found["Member"].add(m["id"])
        for origin in (e["node"]["originId"] for e in m["ledger"]["edges"]):
            found[type_of(origin)].add(origin)
        found["Redemption"] |= set(ids(m["redemptions"]))
        found["Offer"] |= set(ids(m["eligibleOffers"]))
    for key, type_name in (
        ("offers", "Offer"),
        ("rewards", "Reward"),
        ("merchants", "Merchant"),
        ("partnerBrands", "PartnerBrand"),
    ):
        found[type_name] |= set(ids(data[key]))
    found["Tier"] |= {t["id"] for t in data["tiers"]}
    found["Segment"] |= set(ids(data.get("segments")))
    return found


async def node(world: World, role: str, gid: str) -> Any:
    body = await world.given.gql.post(NODE, {"id": gid}, world.tokens[role])
    if world.tokens[role] is None:
        assert body["data"] in (None, {"node": None}), body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        return None
    assert body.keys() == {"data"}, body
    found = body["data"]["node"]
    assert found is None or found["id"] == gid
    return found


async def node_schema(world: World) -> dict[str, list[str]]:
    """Each type implementing Node, with its fields that hold other Node objects (no required args)."""
    data = await world.given.gql.data(SCHEMA, token=world.given.admin)
    types = data["__schema"]["types"]
    nodes = {t["name"] for t in types if any(i["name"] == "Node" for i in t["interfaces"] or [])}

    def named(t: dict[str, Any]) -> str | None:
        while t.get("ofType"):
            t = t["ofType"]
        return t["name"]  # type: ignore[no-any-return]

    return {
        t["name"]: [
            f["name"]
            for f in t["fields"]
            if named(f["type"]) in nodes
            and all(a["defaultValue"] is not None or a["type"]["kind"] != "NON_NULL" for a in f["args"])
        ]
        for t in types
        if t["name"] in nodes
    }


async def test_node_shows_each_role_what_its_lists_show(backend: Backend, given: Scenario) -> None:
    world = await build(backend, given)
    schema = await node_schema(world)

    # Every Node type has a row: a new type must say who reads it.
    assert {type_of(gid) for _, gid, _ in world.objects} == set(schema)

    listed = {role: await reach(world, role) for role in ROLES}
    wrong = []
    for label, gid, readers in world.objects:
        for role in ROLES:
            shown = await node(world, role, gid) is not None
            in_list = gid in listed[role][type_of(gid)]
            if shown != (role in readers) or in_list != shown:
                wrong.append(f"{label} as {role}: node {shown}, listed {in_list}, expected {role in readers}")
    assert wrong == []


async def test_a_refusal_looks_like_a_missing_object(backend: Backend, given: Scenario) -> None:
    world = await build(backend, given)
    schema = await node_schema(world)

    for type_name in schema:
        missing = global_id(type_name, 10**9)
        for role in AUTHENTICATED:
            body = await given.gql.post(NODE, {"id": missing}, world.tokens[role])
            assert body == {"data": {"node": None}}, (type_name, role, body)
    # A type that is not a Node (LedgerEntry ids are only labels) or does not exist is bad input, the
    # same for every caller: type names are public in the schema, so this says nothing about objects.
    for type_name in ["LedgerEntry", "Money", "NoSuchType"]:
        for role in AUTHENTICATED:
            body = await given.gql.post(NODE, {"id": global_id(type_name, 1)}, world.tokens[role])
            assert body["data"] == {"node": None}, (type_name, role, body)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    for label, gid, readers in world.objects:
        for role in AUTHENTICATED - readers:
            body = await given.gql.post(NODE, {"id": gid}, world.tokens[role])
            assert body == {"data": {"node": None}}, (label, role, body)


async def test_nested_fields_show_only_what_node_shows(backend: Backend, given: Scenario) -> None:
    world = await build(backend, given)
    schema = await node_schema(world)
    visible: dict[tuple[str, str], bool] = {}

    async def sees(role: str, gid: str) -> bool:
        if (role, gid) not in visible:
            visible[role, gid] = await node(world, role, gid) is not None
        return visible[role, gid]

    checked = 0
    for label, gid, readers in world.objects:
        fields = schema[type_of(gid)]
        if not fields:
            continue
        query = (
            f"query($id: ID!) {{ node(id: $id) {{ ... on {type_of(gid)} {{ "
            + " ".join(f"{f} {{ id }}" for f in fields)
            + " } } }"
        )
        truth = (await given.gql.data(query, {"id": gid}, given.admin))["node"]
        for role in readers:
            shown = (await given.gql.data(query, {"id": gid}, world.tokens[role]))["node"]
            for f in fields:
                exposed = truth[f]
                if isinstance(exposed, list):
                    expected: Any = [x for x in exposed if await sees(role, x["id"])]
                else:
                    expected = exposed if exposed and await sees(role, exposed["id"]) else None
                assert shown[f] == expected, (label, role, f)
                checked += 1
    assert checked > 20  # the world does expose objects through nested fields
