"""Who may act for whom, through the API on both databases: a merchant acts for a member only with
the member's one-time code or the reference of the member's link to it, and otherwise gets one and
the same refusal; the bank's card processing posts for any member at a merchant it names."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.migrate import alembic_config
from tests.builders import POST_PURCHASE, Scenario, global_id
from tests.conftest import POSTGRES_UNREACHABLE, TEST_DATABASE_URL, server_dsn
from tests.pos_steps import Pos

QUALIFY = """query($input: QualifyPurchaseInput!) {
  qualifyPurchase(input: $input) { qualification { basePoints } errors { code field message } }
}"""
LINKS = "query { memberLinks(first: 10) { edges { node { memberRef member { memberRef } } } } }"
MY_LINKS = "query { me { merchantLinks { memberRef merchant { name } } } }"
UNLINK = """mutation($input: UnlinkMerchantInput!) {
  unlinkMerchant(input: $input) { unlinked errors { code field message } }
}"""
MEMBER = "query($id: ID!) { node(id: $id) { ... on Member { memberRef } } }"
CNY = {"amountMinor": 10_000, "currency": "CNY"}  # 100 points


async def post(given: Scenario, token: str, key: str, **member: Any) -> dict[str, Any]:
    variables = {"input": {**member, "amount": CNY, "idempotencyKey": key}}
    data = await given.gql.data(POST_PURCHASE, variables, token)
    return dict(data["postPurchase"])


async def test_the_code_at_the_till_earns_once_and_pays_once_for_its_checkout(given: Scenario) -> None:
    pos = Pos(given)
    shop = await given.merchant()
    member = await given.funded_member(1_000)
    token = given.tokens.merchant(shop.raw)
    code = await pos.code(member)

    dry = await given.gql.data(QUALIFY, {"input": {"memberCode": code, "amount": CNY}}, token)
    earned = await post(given, token, "k1", memberCode=code)
    paid = await pos.authorize(shop, code, "pay", points=300)
    earned_again = await post(given, token, "k2", memberCode=code)
    paid_again = await pos.authorize(shop, code, "pay-2", points=1)

    assert dry["qualifyPurchase"] == {"qualification": {"basePoints": 100}, "errors": []}
    assert earned["errors"] == []
    assert earned["purchase"]["pointsEarned"] == 100
    assert paid["errors"] == []
    assert paid["redemption"]["points"] == 300
    assert earned_again["purchase"] is None
    assert [(e["code"], e["field"]) for e in earned_again["errors"]] == [("NOT_FOUND", ["memberCode"])]
    assert [e["code"] for e in paid_again["errors"]] == ["VALIDATION"]
    assert await given.balance(member) == {**await given.balance(member), "available": 800, "held": 300}


async def test_a_link_gives_the_merchant_its_own_reference_until_the_member_unlinks(given: Scenario) -> None:
    shop, other = await given.merchant("Tea House"), await given.merchant("Noodle Bar")
    member = await given.member()
    token = given.tokens.merchant(shop.raw)
    ref = await given.member_ref(shop, member)
    other_ref = await given.member_ref(other, member)

    listed = await given.gql.data(LINKS, token=token)
    mine = await given.gql.data(MY_LINKS, token=given.tokens.member(member.raw))
    seen = await given.gql.data(MEMBER, {"id": member.gid}, token)
    earned = await post(given, token, "k1", memberRef=ref.lower())
    with_others_ref = await post(given, token, "k2", memberRef=other_ref)
    unlinked = await given.gql.data(
        UNLINK, {"input": {"merchantId": shop.gid}}, given.tokens.member(member.raw)
    )
    after_unlink = await post(given, token, "k3", memberRef=ref)
    unseen = await given.gql.data(MEMBER, {"id": member.gid}, token)
    given._member_refs.clear()  # the member links again: a new reference
    new_ref = await given.member_ref(shop, member)

    assert ref != other_ref
    assert ref.startswith("MR")
    assert len(ref) == 22
    assert listed["memberLinks"]["edges"] == [{"node": {"memberRef": ref, "member": {"memberRef": ref}}}]
    assert {(link["memberRef"], link["merchant"]["name"]) for link in mine["me"]["merchantLinks"]} == {
        (ref, "Tea House"),
        (other_ref, "Noodle Bar"),
    }
    assert seen["node"] == {"memberRef": ref}
    assert earned["errors"] == []
    assert earned["purchase"]["pointsEarned"] == 100
    assert [(e["code"], e["field"]) for e in with_others_ref["errors"]] == [("NOT_FOUND", ["memberRef"])]
    assert unlinked["unlinkMerchant"] == {"unlinked": True, "errors": []}
    assert after_unlink["errors"] == with_others_ref["errors"]
    assert unseen["node"] is None
    assert new_ref not in (ref, other_ref)
    assert (await given.balance(member))["available"] == 100


async def test_a_merchant_gets_one_refusal_whether_the_member_exists_is_locked_or_not(
    given: Scenario,
) -> None:
    shop = await given.merchant()
    token = given.tokens.merchant(shop.raw)
    served, locked = await given.member(), await given.member()
    await given.gql.data(
        "mutation($i: LockMemberInput!) { lockMember(input: $i) { errors { code } } }",
        {"i": {"memberId": locked.gid, "reason": "review"}},
        given.admin,
    )
    ids = [served.gid, locked.gid, global_id("Member", 999_999)]

    posted = [(await post(given, token, f"k{n}", memberId=gid))["errors"] for n, gid in enumerate(ids)]
    dry = [
        (await given.gql.data(QUALIFY, {"input": {"memberId": gid, "amount": CNY}}, token))["qualifyPurchase"]
        for gid in ids
    ]
    by_code = await post(given, token, "c", memberCode="2345678923")
    nameless = await post(given, token, "n")

    assert posted == [posted[0]] * 3
    assert [(e["code"], e["field"]) for e in posted[0]] == [("NOT_FOUND", ["memberId"])]
    assert dry == [{"qualification": None, "errors": posted[0]}] * 3
    assert [e["message"] for e in by_code["errors"]] == [e["message"] for e in posted[0]]
    assert [(e["code"], e["field"]) for e in nameless["errors"]] == [("VALIDATION", ["member"])]
    assert (await given.balance(served))["lifetimeEarned"] == 0


async def test_the_card_processor_posts_for_any_member_at_the_merchant_it_names(given: Scenario) -> None:
    shop = await given.merchant()
    member = await given.member("card-holder-7")
    token = given.tokens.processor()
    amount = {"amount": CNY}

    by_id = await post(given, token, "k1", memberId=member.gid, merchantId=shop.gid)
    by_ref = await post(given, token, "k2", memberExternalRef="card-holder-7", merchantId=shop.gid)
    replay = await post(given, token, "k2", memberExternalRef="card-holder-7", merchantId=shop.gid)
    no_merchant = await post(given, token, "k3", memberId=member.gid)
    with_link_ref = await post(given, token, "k4", memberRef="MR" + "2" * 20, merchantId=shop.gid)
    as_merchant = await given.gql.data(
        QUALIFY, {"input": {"memberId": member.gid, "merchantId": shop.gid, **amount}}, token
    )

    assert by_id["errors"] == []
    assert by_id["purchase"]["pointsEarned"] == 100
    assert by_ref["errors"] == []
    assert replay == by_ref
    assert [(e["code"], e["field"]) for e in no_merchant["errors"]] == [("VALIDATION", ["merchantId"])]
    assert [(e["code"], e["field"]) for e in with_link_ref["errors"]] == [("VALIDATION", ["memberRef"])]
    assert as_merchant["qualifyPurchase"]["qualification"] == {"basePoints": 100}
    assert (await given.balance(member))["available"] == 200


async def test_a_merchant_reads_only_the_members_linked_to_it(given: Scenario) -> None:
    shop = await given.merchant()
    linked, stranger = await given.member(), await given.member()
    ref = await given.member_ref(shop, linked)
    await given.card_purchase(shop, stranger.gid, 10_000, key="card")  # bought there, never linked
    token = given.tokens.merchant(shop.raw)

    seen = [(await given.gql.data(MEMBER, {"id": m.gid}, token))["node"] for m in (linked, stranger)]

    assert seen == [{"memberRef": ref}, None]


async def links_after_migrating(url: str) -> list[Any]:
    """Purchases made before links existed, then the migration that adds them: the links it made."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "a4d7c2e9b813")  # the revision before links
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in (
                "INSERT INTO merchants (id, name, category, channel, created_at)"
                " VALUES (1, 'A', 'DINING', 'BOTH', '2026-01-01'), (2, 'B', 'DINING', 'BOTH', '2026-01-01')",
                "INSERT INTO members (id, external_ref, status, referral_code, tags, enrolled_at) VALUES"
                " (1, 'x', 'ACTIVE', 'R1', '[]', '2026-01-01'), (2, 'y', 'ACTIVE', 'R2', '[]', '2026-01-01')",
                "INSERT INTO purchases (member_id, merchant_id, amount_minor, currency, channel, occurred_at,"
                " points_earned, points_pending, created_at) VALUES"
                " (1, 1, 100, 'CNY', 'OFFLINE', '2026-01-02', 1, 0, '2026-01-02'),"
                " (1, 1, 100, 'CNY', 'OFFLINE', '2026-01-03', 1, 0, '2026-01-03'),"
                " (2, 1, 100, 'CNY', 'OFFLINE', '2026-01-03', 1, 0, '2026-01-03'),"
                " (1, 2, 100, 'CNY', 'OFFLINE', '2026-01-04', 1, 0, '2026-01-04')",
            ):
                await conn.execute(sa.text(statement))
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        async with engine.connect() as conn:
            query = (
                "SELECT merchant_id, member_id, member_ref FROM member_links ORDER BY merchant_id, member_id"
            )
            return list((await conn.execute(sa.text(query))).all())
    finally:
        await engine.dispose()


def assert_linked_once_per_pair(rows: list[Any]) -> None:
    assert [(r.merchant_id, r.member_id) for r in rows] == [(1, 1), (1, 2), (2, 1)]
    assert len({r.member_ref for r in rows}) == 3
    assert all(r.member_ref.startswith("MR") and len(r.member_ref) == 22 for r in rows)


async def test_the_migration_links_every_pair_that_had_purchases_on_sqlite(tmp_path: Path) -> None:
    assert_linked_once_per_pair(await links_after_migrating(f"sqlite+aiosqlite:///{tmp_path / 'links.db'}"))


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_UNREACHABLE is not None, reason=POSTGRES_UNREACHABLE or "")
async def test_the_migration_links_every_pair_that_had_purchases_on_postgres() -> None:
    url = make_url(TEST_DATABASE_URL).set(database=f"{make_url(TEST_DATABASE_URL).database}_links")
    conn = await asyncpg.connect(server_dsn(TEST_DATABASE_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{url.database}"')
        assert_linked_once_per_pair(await links_after_migrating(url.render_as_string(hide_password=False)))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        await conn.close()
