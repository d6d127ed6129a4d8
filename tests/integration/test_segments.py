"""Segments on both databases: every field and operator of the rule language compiled to SQL selects
exactly the members `domain.segments.matches` selects from the same facts; the refresh job (full and
incremental) keeps membership equal to a full refresh under random activity; the API creates, previews,
changes and archives segments for admins only, and nothing changes on a refusal."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from domain import profiles as dp
from domain import segments as ds
from domain.clock import FixedClock, SystemClock
from domain.merchants import MerchantCategory
from domain.services.segments import rule_context, run_segment_refresh
from persistence.queries.read_model import SqlReadModel
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend

pytestmark = pytest.mark.asyncio

F, OP = ds.SegmentField, ds.Operator
TODAY = dp.utc_day(datetime.now(UTC))
EXAMPLES = itertools.count()  # unique names and keys across Hypothesis' examples (one database)
CREATE = """mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    segment { id name kind status version size rules { condition { field op number } } }
    errors { code field }
  }
}"""
UPDATE = """mutation($input: UpdateSegmentInput!) {
  updateSegment(input: $input) { segment { version size } errors { code field } }
}"""
ARCHIVE = """mutation($input: ArchiveSegmentInput!) {
  archiveSegment(input: $input) { segment { status } errors { code field } }
}"""
EXPORT = """mutation($input: ExportSegmentInput!) {
  exportSegment(input: $input) { csv members errors { code } }
}"""
PREVIEW = (
    """query($rules: SegmentRuleInput!) { segmentPreview(rules: $rules, sample: 5) { size sample { id } } }"""
)
SEGMENT = """query($id: ID!) { node(id: $id) { ... on Segment {
  size version members(first: 10) { edges { node { id } } } sizes { day size }
} } }"""


def uow_factory(backend: Backend) -> Any:
    return lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)


async def activity(
    backend: Backend, member: Ids, merchant: Ids, days_ago: int, purchases: int, spend: int
) -> None:
    """Counter rows written as purchases and refunds write them (the history behind the API's 90 days)."""
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO member_activity_days (member_id, day, merchant_id, channel, currency, purchases,"
                " spend_minor) VALUES (:m, :d, :s, 'OFFLINE', 'CNY', :n, :v)"
            ),
            {
                "m": member.raw,
                "d": TODAY - timedelta(days=days_ago),
                "s": merchant.raw,
                "n": purchases,
                "v": spend,
            },
        )


async def facts(backend: Backend, ctx: ds.RuleContext) -> dict[int, ds.MemberFacts]:
    """Every member's facts read back from the tables, as `matches` needs them."""
    async with backend.database.read_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT m.id, m.status, m.birth_year, m.region, m.income_band, m.tags, t.code AS tier,"
                    " b.available, b.lifetime_earned, b.dormant_since, p.purchases_30, p.purchases_90,"
                    " p.purchases_365, p.spend_30, p.spend_90, p.spend_365, p.enrolled_on, p.idle_since"
                    " FROM members m JOIN member_balances b ON b.member_id = m.id"
                    " LEFT JOIN member_profiles p ON p.member_id = m.id LEFT JOIN tiers t ON t.id = m.tier_id"
                )
            )
        ).all()
        categories = (
            await conn.execute(
                text("SELECT member_id, category, purchases_90, spend_365 FROM member_category_profiles")
            )
        ).all()
    per_category: dict[int, tuple[dict[MerchantCategory, int], dict[MerchantCategory, int]]] = {}
    for c in categories:
        counts, spends = per_category.setdefault(c.member_id, ({}, {}))
        counts[MerchantCategory(c.category)] = c.purchases_90
        spends[MerchantCategory(c.category)] = c.spend_365
    found = {}
    for r in rows:
        enrolled = _day(r.enrolled_on) if r.enrolled_on is not None else ctx.today
        idle = _day(r.idle_since) if r.idle_since is not None else ctx.today
        tags = r.tags if isinstance(r.tags, list) else json.loads(r.tags or "[]")
        stage = dp.stage(
            ctx.lifecycle,
            today=ctx.today,
            enrolled_on=enrolled,
            last_purchase=idle,
            marked_dormant=r.dormant_since is not None,
        )
        counts, spends = per_category.get(r.id, ({}, {}))
        found[r.id] = ds.MemberFacts(
            numbers={
                F.PURCHASES_30D: r.purchases_30 or 0,
                F.PURCHASES_90D: r.purchases_90 or 0,
                F.PURCHASES_365D: r.purchases_365 or 0,
                F.SPEND_30D: r.spend_30 or 0,
                F.SPEND_90D: r.spend_90 or 0,
                F.SPEND_365D: r.spend_365 or 0,
                F.DAYS_SINCE_LAST_PURCHASE: (ctx.today - idle).days,
                F.DAYS_SINCE_ENROLMENT: (ctx.today - enrolled).days,
                F.AVAILABLE_POINTS: r.available,
                F.LIFETIME_EARNED: r.lifetime_earned,
                F.BIRTH_YEAR: r.birth_year or 0,
            },
            texts={
                F.LIFECYCLE_STAGE: stage.value,
                F.TIER: r.tier or ctx.entry_tier_code,
                F.STATUS: r.status,
                F.REGION: r.region or "",
                F.INCOME_BAND: r.income_band or "",
            },
            tags=frozenset(tags),
            category_purchases_90d=counts,
            category_spend_365d=spends,
        )
    return found


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def cond(field: ds.SegmentField, op: ds.Operator, value: Any = None, **more: Any) -> ds.Condition:
    if isinstance(value, int):
        return ds.Condition(field, op, number=value, **more)
    if isinstance(value, tuple):
        return ds.Condition(field, op, values=value, **more)
    return ds.Condition(field, op, text=value, **more)


NUMERIC_THRESHOLDS = {
    F.PURCHASES_30D: 2,
    F.PURCHASES_90D: 3,
    F.PURCHASES_365D: 4,
    F.SPEND_30D: 5_000,
    F.SPEND_90D: 12_000,
    F.SPEND_365D: 30_000,
    F.DAYS_SINCE_LAST_PURCHASE: 30,
    F.DAYS_SINCE_ENROLMENT: 0,
    F.AVAILABLE_POINTS: 100,
    F.LIFETIME_EARNED: 100,
    F.BIRTH_YEAR: 1990,
}
RULES: list[ds.Rule] = [
    *(
        cond(f, op, n)
        for f, n in NUMERIC_THRESHOLDS.items()
        for op in (OP.EQ, OP.NE, OP.LT, OP.LTE, OP.GT, OP.GTE)
    ),
    *(
        cond(f, op, n, category=MerchantCategory.DINING)
        for f, n in ((F.CATEGORY_PURCHASES_90D, 2), (F.CATEGORY_SPEND_365D, 3_000))
        for op in (OP.EQ, OP.NE, OP.LT, OP.GTE)
    ),
    cond(F.CATEGORY_SPEND_365D, OP.GT, 0, category=MerchantCategory.TRAVEL),
    cond(F.DAYS_SINCE_LAST_PURCHASE, OP.GTE, 10**12),  # beyond any date
    cond(F.DAYS_SINCE_LAST_PURCHASE, OP.LT, -(10**12)),
    cond(F.DAYS_SINCE_LAST_PURCHASE, OP.GT, -5),
    *(cond(F.LIFECYCLE_STAGE, OP.EQ, s.value) for s in dp.LifecycleStage),
    cond(F.LIFECYCLE_STAGE, OP.IN, ("ACTIVE", "AT_RISK")),
    cond(F.LIFECYCLE_STAGE, OP.NOT_IN, ("NEW",)),
    cond(F.TIER, OP.EQ, "GOLD"),
    cond(F.TIER, OP.EQ, "CLASSIC"),
    cond(F.TIER, OP.NE, "GOLD"),
    cond(F.STATUS, OP.EQ, "LOCKED"),
    cond(F.STATUS, OP.NOT_IN, ("LOCKED", "CLOSED")),
    cond(F.REGION, OP.EQ, "north"),
    cond(F.REGION, OP.EQ, ""),
    cond(F.REGION, OP.IN, ("north", "south")),
    cond(F.INCOME_BAND, OP.NE, "HIGH"),
    cond(F.TAG, OP.EQ, "foodie"),
    cond(F.TAG, OP.EQ, "FOODIE"),  # tags are lower-case: the same test
    cond(F.TAG, OP.IN, ("vip", "nobody")),
    cond(F.TAG, OP.NE, "vip"),
    cond(F.TAG, OP.NOT_IN, ("foodie", "vip")),
    cond(F.TAG, OP.EQ, "100%_sure"),  # LIKE's wildcards are matched as themselves
    ds.AllOf((cond(F.PURCHASES_90D, OP.GTE, 1), ds.Not(cond(F.REGION, OP.EQ, "south")))),
    ds.AnyOf(
        (cond(F.TAG, OP.EQ, "vip"), ds.AllOf((cond(F.BIRTH_YEAR, OP.LT, 1980), cond(F.SPEND_365D, OP.GT, 0))))
    ),
    ds.Not(ds.AnyOf((cond(F.STATUS, OP.EQ, "LOCKED"), ds.Not(cond(F.LIFETIME_EARNED, OP.GTE, 0))))),
]


async def population(backend: Backend, given: Scenario) -> list[Ids]:
    dining = await given.merchant("Noodle Bar", "DINING")
    travel = await given.merchant("Sky Air", "TRAVEL")
    classic = await given.gql.data(
        "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } errors { code } } }",
        {"i": {"code": "CLASSIC", "name": "Classic", "rank": 1}},
        given.admin,
    )
    assert classic["createTier"]["errors"] == [], classic
    gold = await given.gql.data(
        "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } errors { code } } }",
        {"i": {"code": "GOLD", "name": "Gold", "rank": 2, "minPoints": 100}},
        given.admin,
    )
    a = await given.member(
        "a", profile={"region": "north", "incomeBand": "HIGH", "birthYear": 1990, "tags": ["foodie"]}
    )
    b = await given.member("b", profile={"region": "south", "tags": ["traveller", "VIP", "100%_sure"]})
    c = await given.member("c")
    d = await given.member("d", profile={"birthYear": 1975, "incomeBand": "LOW"})
    e = await given.member("e", profile={"tags": ["100x_sure"]})
    for member, merchant, days, count, spend in (
        (a, dining, 1, 2, 4_000),
        (a, dining, 40, 1, 3_000),
        (a, travel, 100, 1, 50_000),
        (b, travel, 10, 1, 12_000),
        (b, travel, 200, 2, 30_000),
        (d, dining, 70, 1, 2_000),
        (e, dining, 0, 0, 0),  # a purchase fully refunded the same day
    ):
        await activity(backend, member, merchant, days, count, spend)
    assert (await given.adjust(a, 150, "gold"))["errors"] == []
    assert gold["createTier"]["errors"] == [], gold
    async with backend.database.write_engine.begin() as conn:
        gold_id = (await conn.execute(text("SELECT id FROM tiers WHERE code = 'GOLD'"))).scalar_one()
        await conn.execute(text("UPDATE members SET tier_id = :t WHERE id = :m"), {"t": gold_id, "m": a.raw})
        await conn.execute(text("UPDATE members SET status = 'LOCKED' WHERE id = :m"), {"m": d.raw})
        # b and d enrolled long ago: their stages follow their purchases, not their newness.
        await conn.execute(
            text("UPDATE members SET enrolled_at = :at WHERE id IN (:b, :d)"),
            {"at": datetime.now(UTC) - timedelta(days=400), "b": b.raw, "d": d.raw},
        )
        await conn.execute(
            text("UPDATE member_balances SET dormant_since = :at WHERE member_id = :d"),
            {"at": datetime.now(UTC), "d": d.raw},
        )
    return [a, b, c, d, e]


async def test_every_field_and_operator_selects_what_matches_selects(
    backend: Backend, given: Scenario
) -> None:
    members = await population(backend, given)
    run = await run_segment_refresh(uow_factory(backend), SystemClock(), full=True)
    assert (run.full, run.members) == (True, len(members))
    async with (uow := uow_factory(backend)()):
        ctx = await rule_context(uow, TODAY)
    assert ctx.entry_tier_code == "CLASSIC"
    known = await facts(backend, ctx)
    reader = SqlReadModel(backend.database.read_engine)
    differing = []
    selected_somewhere: set[int] = set()
    for rule in RULES:
        ds.validated(rule)
        size, sample = await reader.segment_preview(rule, ctx, 1_000)
        by_sql = {m.id for m in sample}
        by_matches = {member_id for member_id, f in known.items() if ds.matches(rule, f)}
        selected_somewhere |= by_sql
        if by_sql != by_matches or size != len(by_matches):
            differing.append((rule, sorted(by_sql), sorted(by_matches)))
    assert differing == []
    assert selected_somewhere == {m.raw for m in members}  # the rules tell the members apart
    stages = [known[m.raw].texts[F.LIFECYCLE_STAGE] for m in members]
    # a, c and e enrolled today; b bought 10 days ago; d is marked dormant by the dormancy job.
    assert stages == ["NEW", "ACTIVE", "NEW", "DORMANT", "NEW"]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 2),  # member
            st.booleans(),  # dining or travel
            st.integers(1, 40_000),  # amount
            st.integers(0, 80),  # days ago
            st.sampled_from(["keep", "refund part", "refund all"]),
        ),
        min_size=1,
        max_size=8,
    ),
    refresh_every=st.integers(1, 3),
)
async def test_incremental_refreshes_give_what_a_full_refresh_gives(
    backend: Backend, given: Scenario, steps: list[tuple[int, bool, int, int, str]], refresh_every: int
) -> None:
    """Purchases and refunds through the API, refreshed incrementally every few steps; the members of
    each segment then equal a full refresh's, for the members of this example."""
    dining = await given.merchant("Noodle Bar", "DINING")
    travel = await given.merchant("Sky Air", "TRAVEL")
    members = [await given.member() for _ in range(3)]
    rules = [
        cond(F.PURCHASES_30D, OP.GTE, 2),
        cond(F.SPEND_365D, OP.GTE, 15_000),  # a refund alone can take a member out
        cond(F.PURCHASES_365D, OP.EQ, 1),
        cond(F.CATEGORY_SPEND_365D, OP.GT, 20_000, category=MerchantCategory.TRAVEL),
        ds.AllOf((cond(F.SPEND_90D, OP.GTE, 10_000), ds.Not(cond(F.DAYS_SINCE_LAST_PURCHASE, OP.GT, 30)))),
    ]
    created = []
    for rule in rules:
        name = f"s-{next(EXAMPLES)}"
        body = await given.gql.data(CREATE, {"input": {"name": name, "rules": rule_input(rule)}}, given.admin)
        assert body["createSegment"]["errors"] == [], body
        created.append(body["createSegment"]["segment"]["id"])
    await run_segment_refresh(uow_factory(backend), SystemClock())  # the day's full refresh, once
    unrefunded: list[tuple[str, Ids, int]] = []  # purchases not refunded yet: (id, merchant, amount)
    for n, (who, eats, amount, days, refund) in enumerate(steps):
        merchant = dining if eats else travel
        occurred = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        posted = await given.purchase(
            merchant, members[who], amount, f"p-{next(EXAMPLES)}", occurredAt=occurred
        )
        assert posted["errors"] == [], posted
        # A refund is of the oldest earlier purchase not refunded yet: one posted before a refresh,
        # so only the refund itself can tell the refresh that member changed.
        if refund != "keep" and unrefunded:
            purchase_id, at, paid = unrefunded.pop(0)
            key = f"r-{next(EXAMPLES)}"
            variables: dict[str, Any] = {"input": {"purchaseId": purchase_id, "idempotencyKey": key}}
            if refund == "refund part":
                variables["input"]["amount"] = {"amountMinor": max(1, paid // 2), "currency": "CNY"}
            body = await given.gql.post(
                "mutation($input: RefundPurchaseInput!) {"
                " refundPurchase(input: $input) { errors { code } } }",
                variables,
                given.tokens.merchant(at.raw),
            )
            assert body["data"]["refundPurchase"]["errors"] == [], body
        unrefunded.append((posted["purchase"]["id"], merchant, amount))
        if n % refresh_every == 0:
            run = await run_segment_refresh(uow_factory(backend), SystemClock())
            assert run.full is False
    await run_segment_refresh(uow_factory(backend), SystemClock())
    ours = {m.raw for m in members}
    incremental = [await membership(given, gid) & ours for gid in created]
    await run_segment_refresh(uow_factory(backend), SystemClock(), full=True)
    full = [await membership(given, gid) & ours for gid in created]
    assert incremental == full


async def membership(given: Scenario, segment_gid: str) -> set[int]:
    data = await given.gql.data(SEGMENT, {"id": segment_gid}, given.admin)
    return {Ids(e["node"]["id"]).raw for e in data["node"]["members"]["edges"]}


def rule_input(rule: ds.Rule) -> dict[str, Any]:
    if isinstance(rule, ds.AllOf):
        return {"all": [rule_input(r) for r in rule.rules]}
    if isinstance(rule, ds.AnyOf):
        return {"any": [rule_input(r) for r in rule.rules]}
    if isinstance(rule, ds.Not):
        return {"not": rule_input(rule.rule)}
    condition: dict[str, Any] = {"field": rule.field.value, "op": rule.op.value}
    if rule.number is not None:
        condition["number"] = rule.number
    if rule.text is not None:
        condition["text"] = rule.text
    if rule.values:
        condition["values"] = list(rule.values)
    if rule.category is not None:
        condition["category"] = rule.category.value
    return {"condition": condition}


async def test_admins_create_preview_change_and_archive_segments(backend: Backend, given: Scenario) -> None:
    members = await population(backend, given)
    await run_segment_refresh(uow_factory(backend), SystemClock(), full=True)
    spenders = rule_input(cond(F.SPEND_365D, OP.GTE, 30_000))
    preview = (await given.gql.data(PREVIEW, {"rules": spenders}, given.admin))["segmentPreview"]
    assert preview["size"] == 2
    assert [Ids(m["id"]).raw for m in preview["sample"]] == [members[0].raw, members[1].raw]
    made = (
        await given.gql.data(CREATE, {"input": {"name": "Big spenders", "rules": spenders}}, given.admin)
    )["createSegment"]
    assert made["errors"] == []
    segment = made["segment"]
    assert (segment["kind"], segment["status"], segment["version"], segment["size"]) == (
        "RULES",
        "ACTIVE",
        1,
        2,
    )
    assert segment["rules"] == {"condition": {"field": "SPEND_365D", "op": "GTE", "number": 30_000}}
    read = (await given.gql.data(SEGMENT, {"id": segment["id"]}, given.admin))["node"]
    assert read["sizes"] == [{"day": TODAY.isoformat(), "size": 2}]

    narrower = rule_input(cond(F.SPEND_365D, OP.GTE, 50_000))  # a: 57,000; b: 42,000
    changed = await given.gql.data(
        UPDATE, {"input": {"segmentId": segment["id"], "rules": narrower}}, given.admin
    )
    assert changed["updateSegment"] == {"segment": {"version": 2, "size": 1}, "errors": []}
    assert await membership(given, segment["id"]) == {members[0].raw}

    static = await given.gql.data(
        CREATE, {"input": {"name": "VIP list", "externalRefs": ["b", "c"]}}, given.admin
    )
    assert static["createSegment"]["segment"]["size"] == 2
    listed = static["createSegment"]["segment"]["id"]
    assert await membership(given, listed) == {members[1].raw, members[2].raw}
    audited = await scalar(backend, "SELECT count(*) FROM audit_log WHERE action = 'exportSegment'")
    export = await given.gql.data(EXPORT, {"input": {"segmentId": listed}}, given.admin)
    assert export["exportSegment"] == {
        "csv": f"member_id,external_ref\n{members[1].gid},b\n{members[2].gid},c\n",
        "members": 2,
        "errors": [],
    }
    assert (
        await scalar(backend, "SELECT count(*) FROM audit_log WHERE action = 'exportSegment'") == audited + 1
    )
    body = await given.gql.post(EXPORT, {"input": {"segmentId": listed}}, given.tokens.member(members[0].raw))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    count = await scalar(backend, "SELECT count(*) FROM segments")
    for bad, field in (
        ({"name": "Unknown refs", "externalRefs": ["b", "nobody"]}, ["externalRefs"]),
        ({"name": "Both", "rules": spenders, "externalRefs": ["b"]}, ["rules"]),
        ({"name": "Big spenders", "rules": spenders}, ["name"]),  # taken
        ({"name": "Bad op", "rules": {"condition": {"field": "REGION", "op": "GT", "text": "x"}}}, None),
        ({"name": "Two parts", "rules": {"all": [], "not": spenders}}, ["rules"]),
        (
            {
                "name": "No category",
                "rules": {"condition": {"field": "CATEGORY_SPEND_365D", "op": "GT", "number": 1}},
            },
            None,
        ),
    ):
        refused = (await given.gql.data(CREATE, {"input": bad}, given.admin))["createSegment"]
        assert refused["segment"] is None, bad
        [error] = refused["errors"]
        assert error["code"] in ("VALIDATION", "ALREADY_EXISTS"), refused
        if field is not None:
            assert error["field"] == field, refused
    assert await scalar(backend, "SELECT count(*) FROM segments") == count

    archived = await given.gql.data(ARCHIVE, {"input": {"segmentId": segment["id"]}}, given.admin)
    assert archived["archiveSegment"] == {"segment": {"status": "ARCHIVED"}, "errors": []}
    again = await given.gql.data(UPDATE, {"input": {"segmentId": segment["id"], "name": "x"}}, given.admin)
    assert again["updateSegment"]["errors"] == [{"code": "VALIDATION", "field": ["segmentId"]}]

    for token in (given.tokens.member(members[0].raw), given.tokens.merchant(1)):
        body = await given.gql.post(PREVIEW, {"rules": spenders}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await given.gql.post(SEGMENT, {"id": segment["id"]}, token)
        assert body["data"]["node"] is None


async def test_the_job_refreshes_fully_once_a_day_then_incrementally(
    backend: Backend, given: Scenario
) -> None:
    members = await population(backend, given)
    made = await given.gql.data(
        CREATE,
        {"input": {"name": "Diners", "rules": rule_input(cond(F.PURCHASES_30D, OP.GTE, 1))}},
        given.admin,
    )
    segment = made["createSegment"]["segment"]
    assert segment["size"] == 0  # no refresh yet: no profile figures
    first = await run_segment_refresh(uow_factory(backend), SystemClock())
    assert (first.full, first.members, first.segments) == (True, len(members), 1)
    second = await run_segment_refresh(uow_factory(backend), SystemClock())
    assert (second.full, second.members) == (False, 0)
    assert await membership(given, segment["id"]) == {members[0].raw, members[1].raw}  # 1 and 10 days ago
    noodles = await given.merchant("Tea House", "DINING")
    assert (await given.purchase(noodles, members[2], 1_000, "c-1"))["errors"] == []
    third = await run_segment_refresh(uow_factory(backend), SystemClock())
    assert (third.full, third.members) == (False, 1)
    assert await membership(given, segment["id"]) == {members[0].raw, members[1].raw, members[2].raw}
    tomorrow = FixedClock(datetime.now(UTC) + timedelta(days=1))
    assert (await run_segment_refresh(uow_factory(backend), tomorrow)).full is True
    # 31 days on, every purchase has left the 30-day window (c's of today on its 31st day).
    later = FixedClock(datetime.now(UTC) + timedelta(days=31))
    await run_segment_refresh(uow_factory(backend), later)
    assert await membership(given, segment["id"]) == set()


async def scalar(backend: Backend, sql: str) -> int:
    async with backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())
