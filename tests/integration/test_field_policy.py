"""What each role sees of what it reaches, field by field, is what api/field_policy.py declares.

The matrix walks the schema: for every object a role reaches (every Node object of the world that
test_node_scope builds, read with node(id), and what the root queries hand out), it selects every
field of the object's type and of the objects nested in it, and compares each answer with the policy:
the full value (what a viewer the policy shows in full sees), its masked form, or null/empty. At the end
every field of every type the world holds has been checked, for every role that reaches it.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    Undefined,
    get_named_type,
)
from sqlalchemy import text

from api import field_policy as fp
from api.schema import build_schema
from domain import members as dm
from domain.clock import SystemClock
from domain.security import Secret, SecurityEvent, SecurityEventKind
from domain.services.security import record_security_event
from domain.services.settlement_imports import run_settlement_imports
from persistence.delivery import SqlDeliveryStore
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_experiments import SET_EXPERIMENT
from tests.integration.test_node_scope import World, build, type_of
from tests.integration.test_offers_api import CLAIM, GENERATE, create_offer
from tests.integration.test_tiers import create_tier
from tests.pos_steps import Pos

SCHEMA: GraphQLSchema = build_schema()._schema
NODE_TYPES = {
    name
    for name, t in SCHEMA.type_map.items()
    if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
}

# role -> the viewer it is to the world's member (alice) and to its own objects.
VIEWERS = {
    "anonymous": fp.Viewer.ANONYMOUS,
    "member": fp.Viewer.MEMBER_SELF,
    "other_member": fp.Viewer.MEMBER_SELF,  # to its own objects; alice's it does not reach
    "friend": fp.Viewer.MEMBER_SELF,  # received alice's transfer
    "merchant": fp.Viewer.MERCHANT,
    "other_merchant": fp.Viewer.MERCHANT,
    "processor": fp.Viewer.PROCESSOR,
    "partner": fp.Viewer.PARTNER,
    "other_partner": fp.Viewer.PARTNER,
    "admin": fp.Viewer.ADMIN,
}

# Types the matrix does not reach through reads, with where their policy is pinned instead.
ELSEWHERE = {
    "Query": "root fields: guarded, see test_schema_conventions",
    "Mutation": "root fields: guarded, see test_schema_conventions",
    "Qualification": "a dry run's answer: test_available_points_only_inside_a_checkout_with_a_code",
    "OfferSkip": "in a Qualification only: the same test",
    "OfferEstimate": "in me.eligibleOffers only: test_eligible_offers, test_only_the_member_and_admins_*",
}


def is_answer(type_name: str) -> bool:
    entry = fp.type_policy(type_name)
    return entry is not None and entry.why == fp.ANSWER


def required_args(graphql_field: GraphQLField) -> bool:
    return any(
        isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
        for a in graphql_field.args.values()
    )


def selection(type_: GraphQLObjectType, depth: int = 0, inside: tuple[str, ...] = ()) -> str:
    """Every field of the type without required arguments; a nested Node only by its id (its own fields
    are checked where it is read itself), other nested objects in full, except a type nested in itself
    (a segment's rules hold rules), which is selected once."""
    if type_.name in inside:
        return "__typename"
    inside = (*inside, type_.name)
    parts = ["__typename"]
    for name, graphql_field in type_.fields.items():
        if required_args(graphql_field):
            continue
        args = "(first: 2)" if "first" in graphql_field.args else ""
        named = get_named_type(graphql_field.type)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            if named.name in NODE_TYPES or isinstance(named, GraphQLInterfaceType) or depth > 4:
                parts.append(f"{name}{args} {{ __typename id }}")
            else:
                parts.append(f"{name}{args} {{ {selection(named, depth + 1, inside)} }}")
        else:
            parts.append(f"{name}{args}")
    return " ".join(parts)


def node_query(type_name: str) -> str:
    named = SCHEMA.type_map[type_name]
    assert isinstance(named, GraphQLObjectType)
    return f"query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {selection(named)} }} }} }}"


def root_query(root_field: str, args: str = "") -> str:
    query = SCHEMA.query_type
    assert query is not None
    named = get_named_type(query.fields[root_field].type)
    assert isinstance(named, GraphQLObjectType)
    return f"query {{ {root_field}{args} {{ {selection(named)} }} }}"


def member_id_of(gid: str) -> int:
    return int(base64.b64decode(gid).decode().split(":", 1)[1])


@dataclass
class Matrix:
    world: World
    member_ids: dict[str, int]  # the member roles' own ids
    merchant: Ids
    settlement_import: str  # the merchant's, with a line not posted

    @property
    def tokens(self) -> dict[str, str | None]:
        return self.world.tokens


@dataclass
class Checker:
    """Compares one role's answer with the truth, object by object, recording what it checked."""

    world: Matrix
    checked: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    wrong: list[str] = field(default_factory=list)

    def viewer(self, role: str, type_name: str, owner: int | None) -> fp.Viewer:
        base = VIEWERS[role]
        entry = fp.type_policy(type_name)
        if base is not fp.Viewer.MEMBER_SELF or entry is None or entry.owner is None or owner is None:
            return base
        mine = self.world.member_ids.get(role)
        return fp.Viewer.MEMBER_SELF if mine == owner else fp.Viewer.MEMBER_OTHER

    def rule(self, type_name: str, name: str, viewer: fp.Viewer, listed: bool) -> fp.Rule:
        policy = fp.field_policy(type_name, name)
        assert policy is not None, f"{type_name}.{name}"
        rule = policy[viewer]
        if rule.in_lists is not None and listed:
            rule = rule.in_lists
        # A conditional rule (only_if): the matrix reaches offers only through their funders, so it
        # holds here; where it does not, a test of its own says so.
        return rule

    def shown_in_full(self, type_name: str, name: str, truths: dict[fp.Viewer, Any]) -> dict[fp.Viewer, Any]:
        """The reference answers of the viewers the policy shows this field to in full."""
        return {
            viewer: truth
            for viewer, truth in truths.items()
            if truth is not None and self.rule(type_name, name, viewer, False).access is fp.Access.FULL
        }

    def compare(
        self,
        role: str,
        type_: GraphQLObjectType,
        shown: dict[str, Any],
        truths: dict[fp.Viewer, Any],
        *,
        owner: int | None,
        listed: bool,
        where: str,
    ) -> None:
        if type_.name == "Member":
            owner = member_id_of(shown["id"])
        viewer = self.viewer(role, type_.name, owner)
        for name, graphql_field in type_.fields.items():
            if name not in shown:
                continue
            self.checked[type_.name, name].add(role)
            rule = self.rule(type_.name, name, viewer, listed)
            value = shown[name]
            label = f"{where}.{name} as {role} ({viewer.value})"
            if rule.access is fp.Access.HIDDEN:
                if value not in (None, []) and not (isinstance(value, dict) and value.get("edges") == []):
                    self.wrong.append(f"{label}: hidden, but answered {value!r}")
                continue
            full = self.shown_in_full(type_.name, name, truths)
            if rule.access is fp.Access.MASKED:
                assert rule.mask is not None
                known, truth = first_truth({v: t[name] for v, t in full.items()})
                if not known or value != rule.mask(truth):
                    self.wrong.append(f"{label}: expected the mask of {truth!r}, got {value!r}")
                continue
            self.descend(role, graphql_field.type, value, full, name, owner=owner, listed=listed, label=label)

    def descend(
        self,
        role: str,
        type_: GraphQLType,
        value: Any,
        truths: dict[fp.Viewer, Any],
        name: str,
        *,
        owner: int | None,
        listed: bool,
        label: str,
    ) -> None:
        """A field shown in full: the same value as the truth, nested objects compared field by field."""
        nested = {v: t.get(name) for v, t in truths.items() if t is not None}
        named = get_named_type(type_)
        if isinstance(named, GraphQLObjectType) and named.name not in NODE_TYPES:
            inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
            if isinstance(inner, GraphQLList):
                if value is None:
                    return
                for i, item in enumerate(value):
                    at = {v: (t[i] if t is not None and i < len(t) else None) for v, t in nested.items()}
                    self.compare(role, named, item, at, owner=owner, listed=listed, where=f"{label}[{i}]")
            elif value is not None:
                self.compare(role, named, value, nested, owner=owner, listed=listed, where=label)
            return
        known, truth = first_truth(nested)
        if not known or name in VOLATILE:
            return
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            # A nested Node: whether the role may read it is api/access.py's rule (test_node_scope);
            # when shown it is the same object.
            if value is not None and value != truth:
                self.wrong.append(f"{label}: {value!r} is not {truth!r}")
            return
        if value != truth:
            self.wrong.append(f"{label}: expected {truth!r}, got {value!r}")


# Computed from the time of the read: two reads differ.
VOLATILE = {"windowStart"}


def first_truth(answers: dict[fp.Viewer, Any]) -> tuple[bool, Any]:
    for viewer in (fp.Viewer.ADMIN, fp.Viewer.MEMBER_SELF):
        if viewer in answers:
            return True, answers[viewer]
    return False, None


async def answer(world: Matrix, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await world.world.given.gql.post(query, variables, world.tokens[role])
    if world.tokens[role] is None:
        assert [e["extensions"]["code"] for e in body["errors"]] in (
            ["UNAUTHENTICATED"],
            ["QUERY_TOO_COSTLY"],
        ), body
        return None
    assert "errors" not in body, (role, body)
    return body["data"]


async def matrix_world(backend: Backend, given: Scenario) -> Matrix:
    """test_node_scope's world, and what it lacks for every type to hold something: a coupon in the
    member's wallet, a tier change, points expiring soon and a security event."""
    world = await build(backend, given)
    world.tokens["processor"] = given.tokens.processor(1)
    world.tokens["friend"] = given.tokens.member(member_id_of(world.members[2]))
    [merchant] = [gid for label, gid, _ in world.objects if label == "the merchant"]
    alice = Ids(world.members[0])
    coupon_offer = await create_offer(
        given,
        name="Coupon: 5 bonus points",
        mechanic="BONUS_POINTS",
        points=5,
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant, "percent": 100}],
    )
    generated = await given.gql.data(
        GENERATE, {"input": {"offerId": coupon_offer["offer"]["id"], "count": 1}}, given.admin
    )
    [code] = [c["code"] for c in generated["generateCoupons"]["coupons"]]
    claimed = await given.gql.data(CLAIM, {"input": {"code": code}}, given.tokens.member(alice.raw))
    assert claimed["claimCoupon"]["errors"] == []
    valued = await given.gql.data(
        "mutation($i: UpdateProgrammeInput!) { updateProgramme(input: $i) { errors { code } } }",
        {"i": {"pointValues": [{"currency": "CNY", "value": "0.01"}]}},
        given.admin,
    )
    assert valued["updateProgramme"]["errors"] == [], valued
    gold = await create_tier(given, code="GOLD", name="Gold", rank=2, minPoints=100)
    assert gold["errors"] == [], gold
    # The live offer runs an experiment (no holdout, so every member still gets it): its report has
    # arms, and the purchase below is assigned, awarded and costed in them.
    [live] = [gid for label, gid, _ in world.objects if label.startswith("a live offer")]
    experiment = {
        "holdoutShare": 0,
        "marginRate": 3000,
        "variants": [{"key": "more", "weight": 1, "points": 40}],
    }
    armed = await given.gql.data(
        SET_EXPERIMENT, {"input": {"offerId": live, "experiment": experiment}}, given.admin
    )
    assert armed["setOfferExperiment"]["errors"] == [], armed
    posted = await given.purchase(Ids(merchant), alice, 20_000, key="p-gold")
    assert posted["errors"] == [], posted
    # The friend's huge purchase waits for risk review: the queue has something to show.
    held = await given.purchase(
        Ids(merchant), Ids(world.members[2]), 2_100_000_000, key="p-held", currency="USD"
    )
    assert [n["code"] for n in held.get("notices", [{"code": "RISK_REVIEW"}])] == ["RISK_REVIEW"], held
    now = datetime.now(UTC)
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text("UPDATE points_lots SET expires_at = :soon WHERE member_id = :id"),
            {"soon": now + timedelta(days=10), "id": alice.raw},
        )
    event = SecurityEvent(
        kind=SecurityEventKind.GUESSING_LOCKOUT,
        secret=Secret.REDEMPTION_CODE,
        principal="merchant:pos-9",
        client_address="10.0.0.9",
        failures=5,
        cooldown_seconds=300,
        request_id="r-9",
        at=now,
    )
    await record_security_event(event, uow=SqlAlchemyUnitOfWork(backend.database.write_engine))
    uploaded = await given.gql.http.post(
        "/settlements",
        content=b"reference,member,amount,currency,time,channel\nS-1,nobody,1.00,CNY,2026-01-01T00:00:00Z,\n",
        headers={"Authorization": f"Bearer {world.tokens['merchant']}", "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 202, uploaded.text
    writes = backend.database.write_engine
    await run_settlement_imports(
        lambda: SqlAlchemyUnitOfWork(writes), SystemClock(), lambda _: None, worker="matrix"
    )
    # A webhook subscription, and the events so far fanned out to it: deliveries to list.
    subscribed = await given.gql.data(
        "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) "
        "{ errors { code } } }",
        {
            "i": {
                "url": "https://hooks.example/in",
                "eventTypes": [],
                "ownerKind": "MERCHANT",
                "ownerId": merchant,
            }
        },
        given.admin,
    )
    assert subscribed["createWebhookSubscription"]["errors"] == [], subscribed
    assert await SqlDeliveryStore(writes).dispatch(now) > 0
    # A trigger with a condition and an action of each field, and a suppressed notice to count.
    triggered = await given.gql.data(
        "mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { errors { code } } }",
        {
            "i": {
                "trigger": {
                    "name": "Big spenders",
                    "eventType": "purchase.posted",
                    "conditions": [{"kind": "BALANCE_CROSSES", "threshold": 10_000}],
                    "actions": [{"kind": "NOTIFY", "template": "reward_suggestion"}],
                }
            }
        },
        given.admin,
    )
    assert triggered["createTrigger"]["errors"] == [], triggered
    async with writes.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO notifications (member_id, kind, category, template, key, suppressed_reason,"
                " created_at) VALUES (:m, 'CAMPAIGN', 'MARKETING', 'nudge', 'matrix', 'NO_CONSENT', :at)"
            ),
            {"m": member_id_of(world.members[0]), "at": now},
        )
    return Matrix(
        world,
        member_ids={
            role: member_id_of(gid)
            for role, gid in zip(("member", "other_member", "friend"), world.members, strict=True)
        },
        merchant=Ids(merchant),
        settlement_import=uploaded.json()["settlementImport"]["id"],
    )


def owner_of(gid: str, world: Matrix) -> int | None:
    return member_id_of(gid) if type_of(gid) == "Member" else world.member_ids["member"]


async def test_every_field_as_every_role_is_what_the_policy_declares(
    backend: Backend, given: Scenario
) -> None:
    world = await matrix_world(backend, given)
    checker = Checker(world)
    alice = world.world.members[0]

    # Every Node object, read by id by every role, against the admin's and the member's own reads.
    for label, gid, _readers in world.world.objects:
        query = node_query(type_of(gid))
        truths = {
            fp.Viewer.ADMIN: (await answer(world, "admin", query, {"id": gid}))["node"],
            fp.Viewer.MEMBER_SELF: (await answer(world, "member", query, {"id": gid}))["node"],
        }
        named = SCHEMA.type_map[type_of(gid)]
        assert isinstance(named, GraphQLObjectType)
        for role in VIEWERS:
            data = await answer(world, role, query, {"id": gid})
            if data is None or data["node"] is None:
                continue  # not reached: api/access.py's rule, test_node_scope
            checker.compare(
                role, named, data["node"], truths, owner=owner_of(gid, world), listed=False, where=label
            )

    # The admin's list of members: contact masked, no profile; each against the admin's single read.
    member_type = _object("Member")
    members = (
        "query { members(first: 5) { __typename pageInfo { __typename hasNextPage hasPreviousPage "
        f"startCursor endCursor }} edges {{ __typename cursor node {{ {selection(member_type)} }} }} }} }}"
    )
    listed = await answer(world, "admin", members)
    for type_name, names in {
        "MemberConnection": ("pageInfo", "edges"),
        "MemberEdge": ("cursor", "node"),
    }.items():
        for name in names:
            checker.checked[type_name, name].add("admin")
    for edge in listed["members"]["edges"]:
        gid = edge["node"]["id"]
        single = (await answer(world, "admin", node_query("Member"), {"id": gid}))["node"]
        own_token = {m: r for r, m in world.member_ids.items()}.get(member_id_of(gid))
        own = (
            (await answer(world, own_token, node_query("Member"), {"id": gid}))["node"] if own_token else None
        )
        truths = {fp.Viewer.ADMIN: single, fp.Viewer.MEMBER_SELF: own}
        checker.compare(
            "admin", member_type, edge["node"], truths, owner=member_id_of(gid), listed=True, where="members"
        )

    # What the other root queries hand out, to every role they answer.
    for root, args in [
        ("me", ""),
        ("memberLinks", "(first: 5)"),
        ("programme", ""),
        ("tiers", ""),
        ("auditLog", "(first: 5)"),
        ("riskRules", ""),
        ("lifecycleRules", ""),
        ("segments", "(first: 5)"),
        ("segmentPreview", "(rules: {condition: {field: PURCHASES_365D, op: GTE, number: 0}})"),
        ("riskReviews", "(first: 5)"),
        ("securityEvents", "(first: 5)"),
        ("merchants", "(first: 5)"),
        ("partnerBrands", "(first: 5)"),
        ("rewards", "(first: 5)"),
        ("offers", "(first: 5)"),
        ("webhookSubscriptions", ""),
        ("webhookDeliveries", "(first: 5)"),
        ("triggers", ""),
        ("notificationSuppressions", '(since: "2020-01-01T00:00:00Z")'),
    ]:
        query = root_query(root, args)
        admin_answer = None if root in ("me", "memberLinks") else await answer(world, "admin", query)
        query_type = SCHEMA.query_type
        assert query_type is not None
        for role in VIEWERS:
            body = await world.world.given.gql.post(query, None, world.tokens[role])
            if "errors" in body:  # a role the root field refuses
                # Anonymous callers have the smallest cost budget: a whole `me` is refused by cost first.
                refusals = {"UNAUTHENTICATED", "FORBIDDEN"} | (
                    {"QUERY_TOO_COSTLY"} if role == "anonymous" else set()
                )
                assert {e["extensions"]["code"] for e in body["errors"]} <= refusals
                continue
            data = body["data"]
            if root == "me":
                own = (await answer(world, "admin", node_query("Member"), {"id": data["me"]["id"]}))["node"]
                checker.compare(
                    role,
                    member_type,
                    data["me"],
                    {fp.Viewer.ADMIN: own, fp.Viewer.MEMBER_SELF: data["me"]},
                    owner=world.member_ids[role],
                    listed=False,
                    where="me",
                )
                continue
            # The same settings for everyone; a list holds what the role's access rules let it list
            # (test_node_scope), so its own answer is the reference and the policy's hidden fields
            # are what is checked.
            truths = {fp.Viewer.ADMIN: admin_answer if root == "programme" else data}
            checker.descend(
                role,
                query_type.fields[root].type,
                data[root],
                {v: t for v, t in truths.items() if t is not None},
                root,
                owner=world.member_ids.get(role),
                listed=False,
                label=root,
            )

    # A merchant's reconciliation lists: the merchant itself and admins (naming it) read them; other
    # merchants, members, partners and processors are refused.
    for root in ("purchases", "refunds"):
        query = root_query(root, f'(first: 5, merchantId: "{world.merchant.gid}")')
        admin_answer = await answer(world, "admin", query)
        readers = set()
        for role in VIEWERS:
            body = await world.world.given.gql.post(query, None, world.tokens[role])
            if "errors" in body:
                assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "FORBIDDEN"}
                continue
            readers.add(role)
            checker.descend(
                role,
                _field("Query", root).type,
                body["data"][root],
                {fp.Viewer.ADMIN: admin_answer},
                root,
                owner=None,
                listed=False,
                label=root,
            )
        assert readers == {"merchant", "admin"}, root

    # A report: what partners and funding merchants see of members is aggregates only.
    [live] = [gid for label, gid, _ in world.world.objects if label.startswith("a live offer")]
    # A fixed period: the default one ends now, which moves between the roles' requests.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=2)).isoformat()
    span = f'{{from: "{start}", to: "{end}"}}'
    fields = selection(_object("CampaignReport"))
    # The sign-up offer's report has bonuses (the members' sign-up awards) where the live one has purchases.
    [sign_up] = [gid for label, gid, _ in world.world.objects if label == "the sign-up offer"]
    for offer in (live, sign_up):
        report = f'query {{ campaignReport(offerId: "{offer}", period: {span}) {{ {fields} }} }}'
        admin_report = await answer(world, "admin", report)
        for role in ("merchant", "partner", "admin"):
            data = await answer(world, role, report)
            checker.descend(
                role,
                _field("Query", "campaignReport").type,
                data["campaignReport"],
                {fp.Viewer.ADMIN: admin_report},
                "campaignReport",
                owner=None,
                listed=False,
                label="campaignReport",
            )

    # An offer's guard rules: admins only.
    given = world.world.given
    set_guards = await given.gql.data(
        "mutation($i: SetOfferGuardsInput!) { setOfferGuards(input: $i) { errors { code } } }",
        {"i": {"offerId": live, "guards": [{"kind": "ROI", "minParticipants": 10}]}},
        given.admin,
    )
    assert set_guards["setOfferGuards"]["errors"] == [], set_guards
    guards = f'query {{ offerGuards(offerId: "{live}") {{ {selection(_object("OfferGuard"))} }} }}'
    admin_guards = await answer(world, "admin", guards)
    assert len(admin_guards["offerGuards"]) == 1
    for role in VIEWERS:
        body = await given.gql.post(guards, None, world.tokens[role])
        if role != "admin":
            assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "FORBIDDEN"}
            continue
        checker.descend(
            role,
            _field("Query", "offerGuards").type,
            body["data"]["offerGuards"],
            {fp.Viewer.ADMIN: admin_guards},
            "offerGuards",
            owner=None,
            listed=False,
            label="offerGuards",
        )

    # A settlement import: the merchant that uploaded it reads all of it; no one else reads it.
    selected = selection(_object("SettlementImport"))
    imported = f'query {{ settlementImport(id: "{world.settlement_import}") {{ {selected} }} }}'
    for role in VIEWERS:
        body = await world.world.given.gql.post(imported, None, world.tokens[role])
        if role != "merchant":
            assert {e["extensions"]["code"] for e in body["errors"]} <= {
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "NOT_FOUND",
            }
            continue
        checker.descend(
            role,
            _field("Query", "settlementImport").type,
            body["data"]["settlementImport"],
            {fp.Viewer.ADMIN: body["data"]},
            "settlementImport",
            owner=None,
            listed=False,
            label="settlementImport",
        )
    # Statements: the merchant and the partner brand their own, admins either by naming it.
    now = datetime.now(UTC)
    period = (
        f'{{from: "{(now - timedelta(days=1)).isoformat()}", to: "{(now + timedelta(days=1)).isoformat()}"}}'
    )
    for root, label, role in (
        ("merchantStatement", "the merchant", "merchant"),
        ("partnerStatement", "the partner brand", "partner"),
    ):
        [funder] = [gid for name, gid, _ in world.world.objects if name == label]
        named = "merchantId" if role == "merchant" else "partnerId"
        fields = selection(_object(root[0].upper() + root[1:]))
        own = await answer(world, role, f"query {{ {root}(period: {period}) {{ {fields} }} }}")
        by_admin = await answer(
            world, "admin", f'query {{ {root}(period: {period}, {named}: "{funder}") {{ {fields} }} }}'
        )
        assert own == by_admin
        for viewer, data in ((role, own), ("admin", by_admin)):
            checker.descend(
                viewer,
                _field("Query", root).type,
                data[root],
                {fp.Viewer.ADMIN: by_admin},
                root,
                owner=None,
                listed=False,
                label=root,
            )

    assert checker.wrong == [], "\n".join(checker.wrong)

    # Every field of every type the schema has was checked, for every role that reaches it, except
    # mutations' answers (their contents are the types checked here) and the types pinned elsewhere.
    unchecked = [
        f"{t.name}.{name}"
        for t in fp.object_types(SCHEMA)
        if t.name not in ELSEWHERE and not is_answer(t.name)
        for name in t.fields
        if (t.name, name) not in checker.checked
    ]
    assert unchecked == [], " ".join(unchecked)
    # Merchants were shown a member (the linked one), partners none, processors only the catalogue.
    assert "merchant" in checker.checked["Member", "memberRef"]
    assert "partner" not in checker.checked["Member", "id"]
    assert "processor" not in checker.checked["Member", "id"]
    assert {"processor", "partner", "merchant", "member", "admin"} <= checker.checked["Tier", "name"]
    # The member's own view and the merchant's, spelled out.
    merchant_view = await answer(
        world,
        "merchant",
        "query($id: ID!) { member(id: $id) { displayName memberRef externalRef referralCode status "
        "enrolledAt profile { region } contact { phone } balance { available } tier { code } "
        "ledger(first: 5) { edges { node { points } } } coupons { code } } }",
        {"id": alice},
    )
    assert merchant_view["member"] == {
        "displayName": "138****5678",
        "memberRef": await world.world.given.member_ref(world.merchant, Ids(alice)),
        "externalRef": None,
        "referralCode": None,
        "status": None,
        "enrolledAt": None,
        "profile": None,
        "contact": None,
        "balance": None,
        "tier": {"code": "GOLD"},  # the purchase above took it there
        "ledger": {"edges": []},
        "coupons": [],
    }


def _object(name: str) -> GraphQLObjectType:
    named = SCHEMA.type_map[name]
    assert isinstance(named, GraphQLObjectType)
    return named


def _field(type_name: str, name: str) -> GraphQLField:
    return _object(type_name).fields[name]


# --- the policy itself ----------------------------------------------------------------------------


def test_the_policy_covers_every_field_of_every_object_type() -> None:
    assert fp.gaps(build_schema()._schema) == []


def test_a_field_or_type_without_a_policy_entry_is_named() -> None:
    graphql = build_schema()._schema
    member = graphql.type_map["Member"]
    balance = graphql.type_map["PointsBalance"]
    assert isinstance(member, GraphQLObjectType)
    assert isinstance(balance, GraphQLObjectType)
    member.fields["nickname"] = GraphQLField(member.fields["displayName"].type)
    graphql.type_map["Ticket"] = GraphQLObjectType("Ticket", {"code": member.fields["displayName"]})
    # A type named like relay's paging types is covered only if it holds nothing else.
    graphql.type_map["TicketEdge"] = GraphQLObjectType(
        "TicketEdge", {"cursor": member.fields["displayName"], "secret": member.fields["displayName"]}
    )
    # A member's balance field hidden from merchants would have to answer null: a non-null one cannot.
    fp.POLICY["PointsBalance"] = fp.TypePolicy(default=fp.OWNER_AND_ADMIN, why="test")
    try:
        assert fp.gaps(graphql) == [
            "Member.nickname",
            "PointsBalance.available (non-null, so it cannot be hidden)",
            "PointsBalance.pending (non-null, so it cannot be hidden)",
            "PointsBalance.held (non-null, so it cannot be hidden)",
            "PointsBalance.lifetimeEarned (non-null, so it cannot be hidden)",
            "PointsBalance.lifetimeRedeemed (non-null, so it cannot be hidden)",
            "PointsBalance.debt (non-null, so it cannot be hidden)",
            "PointsBalance.underReview (non-null, so it cannot be hidden)",
            "Ticket",
            "TicketEdge",
        ]
        with pytest.raises(fp.PolicyGap):
            fp.guard_schema(graphql)
    finally:
        fp.POLICY["PointsBalance"] = fp.reached(
            "a member's figures, handed out whole by Member.balance (owner and admin)"
        )


def test_types_that_belong_to_no_member_give_every_member_one_verdict() -> None:
    """MEMBER_SELF and MEMBER_OTHER differ only for a type that names its member (`owner`)."""
    differing = [
        f"{t.name}.{name}"
        for t in fp.object_types(SCHEMA)
        for name in t.fields
        if (entry := fp.type_policy(t.name)) is not None
        and entry.owner is None
        and (policy := fp.field_policy(t.name, name)) is not None
        and policy[fp.Viewer.MEMBER_SELF] != policy[fp.Viewer.MEMBER_OTHER]
    ]
    assert differing == []


def test_only_the_fields_the_policy_restricts_are_wrapped() -> None:
    """Fields every viewer sees in full keep their own resolvers: the policy costs nothing there."""
    graphql = build_schema()._schema
    wrapped = {
        f"{t.name}.{name}"
        for t in fp.object_types(graphql)
        for name, f in t.fields.items()
        if f.resolve is not None and f.resolve.__name__.startswith("guarded_")
    }
    restricted = {
        f"{t.name}.{name}"
        for t in fp.object_types(graphql)
        for name in t.fields
        if (policy := fp.field_policy(t.name, name)) is not None
        and any(r != fp.FULL for r in policy.values())
    }
    assert wrapped == restricted
    assert {"Member.contact", "Member.balance", "MemberContact.phone", "Offer.usage"} <= wrapped
    assert "Member.id" not in wrapped


def test_display_names_are_masked_like_lists_mask_contact_data() -> None:
    assert dm.mask_display_name("13812345678") == "138****5678"
    assert dm.mask_display_name("Li.Wei@Example.CN") == "L***@Example.CN"
    assert dm.mask_display_name(None) is None


# --- the balance only inside a checkout with a code ---------------------------------------------------

QUALIFY = """query($input: QualifyPurchaseInput!) {
  qualifyPurchase(input: $input) {
    qualification { basePoints totalPoints availablePoints skipped { offerId reason } }
    errors { code field }
  }
}"""
AUTHORIZE = """mutation($input: AuthorizeRedemptionInput!) {
  authorizeRedemption(input: $input) { redemption { points } availablePoints errors { code field } }
}"""
CNY = {"amountMinor": 10_000, "currency": "CNY"}


async def test_available_points_only_inside_a_checkout_with_a_code(given: Scenario) -> None:
    pos = Pos(given)
    shop = await given.merchant("Tea House")
    member = await given.funded_member(1_000)
    merchant = given.tokens.merchant(shop.raw)
    ref = await given.member_ref(shop, member)

    by_code = await given.gql.data(
        QUALIFY, {"input": {"memberCode": await pos.code(member), "amount": CNY}}, merchant
    )
    by_link = await given.gql.data(QUALIFY, {"input": {"memberRef": ref, "amount": CNY}}, merchant)
    by_card = await given.gql.data(
        QUALIFY,
        {"input": {"memberId": member.gid, "merchantId": shop.gid, "amount": CNY}},
        given.tokens.processor(1),
    )
    own = await given.gql.data(
        QUALIFY, {"input": {"merchantId": shop.gid, "amount": CNY}}, given.tokens.member(member.raw)
    )
    held_input = {"input": {"code": await pos.code(member), "points": 300, "idempotencyKey": "h1"}}
    held = await given.gql.data(AUTHORIZE, held_input, merchant)
    # A retry with the same key and input answers what the hold answered, the figure included.
    replayed = await given.gql.data(AUTHORIZE, held_input, merchant)

    def shown(answer: dict[str, Any]) -> Any:
        assert answer["qualifyPurchase"]["errors"] == []
        return answer["qualifyPurchase"]["qualification"]["availablePoints"]

    assert shown(by_code) == 1_000  # the member showed its code at this till
    assert shown(by_link) is None  # a standing link is no checkout
    assert shown(by_card) is None  # the processor sees only its own answers
    assert shown(own) == 1_000  # the member itself
    assert by_code["qualifyPurchase"]["qualification"]["basePoints"] == 100
    assert held["authorizeRedemption"] == {
        "redemption": {"points": 300},
        "availablePoints": 700,
        "errors": [],
    }
    assert replayed == held


# --- an admin's reads of personal data, audited once per member per request ---------------------------

AUDIT = """query { auditLog(first: 50, filter: {action: "personal_data.read"}) {
  edges { node { memberId after } }
} }"""
PERSONAL = "contact { phone email } profile { birthYear region incomeBand tags }"


async def personal_reads(given: Scenario) -> list[tuple[str, list[str]]]:
    data = await given.gql.data(AUDIT, None, given.admin)
    return [(e["node"]["memberId"], e["node"]["after"]["fields"]) for e in data["auditLog"]["edges"]]


async def test_an_admin_reading_personal_data_writes_one_row_per_member_per_request(given: Scenario) -> None:
    alice = await given.member("alice", phone="13812345678", profile={"region": "north"})
    bob = await given.member("bob", email="bob@example.cn")
    nobody = await given.member("carol")  # nothing personal to read

    listed = await given.gql.data(
        f"query {{ members(first: 10) {{ edges {{ node {{ id displayName {PERSONAL} }} }} }} }}",
        None,
        given.admin,
    )
    assert await personal_reads(given) == []  # a list shows contact data masked, no profile, no row
    assert [e["node"]["contact"]["phone"] for e in listed["members"]["edges"]] == ["138****5678", None, None]
    assert [e["node"]["profile"] for e in listed["members"]["edges"]] == [None, None, None]
    assert [e["node"]["displayName"] for e in listed["members"]["edges"]] == [
        "138****5678",
        "b***@example.cn",
        None,
    ]

    both = await given.gql.data(
        f"""query($a: ID!, $b: ID!, $c: ID!) {{
          a: member(id: $a) {{ {PERSONAL} }} again: member(id: $a) {{ contact {{ phone }} }}
          b: member(id: $b) {{ contact {{ email }} }} c: member(id: $c) {{ {PERSONAL} }}
        }}""",
        {"a": alice.gid, "b": bob.gid, "c": nobody.gid},
        given.admin,
    )
    assert both["a"]["contact"] == {"phone": "13812345678", "email": None}
    assert both["b"]["contact"] == {"email": "bob@example.cn"}
    assert sorted(await personal_reads(given)) == sorted(
        [(alice.gid, ["phone", "email", "profile"]), (bob.gid, ["phone", "email"])]
    )

    # A member reading its own writes nothing; a later request of the admin's is a new read.
    await given.gql.data(f"query {{ me {{ {PERSONAL} }} }}", None, given.tokens.member(alice.raw))
    await given.gql.data(
        "query($a: ID!) { member(id: $a) { contact { phone } } }", {"a": alice.gid}, given.admin
    )
    assert len(await personal_reads(given)) == 3
