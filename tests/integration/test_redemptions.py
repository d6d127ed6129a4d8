"""redeemReward: exact balance and stock; lots consumed soonest-expiry first; failures change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from persistence.tables import journal_entries, points_lots
from tests.builders import Scenario
from tests.conftest import Backend

REWARD_QUERY = "query($id: ID!) { node(id: $id) { ... on Reward { stock } } }"


async def test_redeem_spends_exact_points_and_stock(given: Scenario) -> None:
    member = await given.funded_member(250)
    reward = await given.reward("Cinema ticket", cost_points=100, stock=3)

    result = await given.redeem(member, reward, key="r1")

    assert result["errors"] == []
    assert result["redemption"]["points"] == 100
    balance = await given.balance(member)
    assert balance["available"] == 150
    assert balance["lifetimeRedeemed"] == 100
    stock = await given.gql.data(REWARD_QUERY, {"id": reward.gid}, given.admin)
    assert stock["node"]["stock"] == 2


async def test_insufficient_points_changes_nothing(given: Scenario, backend: Backend) -> None:
    member = await given.funded_member(99)
    reward = await given.reward(cost_points=100, stock=1)

    result = await given.redeem(member, reward, key="r1")

    assert result["redemption"] is None
    assert result["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert (await given.balance(member))["available"] == 99
    assert (await given.gql.data(REWARD_QUERY, {"id": reward.gid}, given.admin))["node"]["stock"] == 1
    async with backend.database.read_engine.connect() as conn:
        entries = (await conn.execute(select(func.count()).select_from(journal_entries))).scalar_one()
    assert entries == 1  # only the funding adjustment


async def test_out_of_stock_and_inactive_rewards(given: Scenario) -> None:
    member = await given.funded_member(1_000)
    sold_out = await given.reward("Sold out", cost_points=10, stock=0)
    retired = await given.gql.data(
        'mutation { createReward(input: {name: "Mug", costPoints: 10, active: false}) { reward { id } } }',
        token=given.admin,
    )
    from tests.builders import Ids

    out = await given.redeem(member, sold_out, key="a")
    inactive = await given.redeem(member, Ids(retired["createReward"]["reward"]["id"]), key="b")

    assert out["errors"][0]["code"] == "REWARD_OUT_OF_STOCK"
    assert inactive["errors"][0]["code"] == "REWARD_INACTIVE"
    assert (await given.balance(member))["available"] == 1_000


async def test_redemption_consumes_soonest_expiring_lot_first(given: Scenario, backend: Backend) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 6_000, key="p1")  # 60 points, earliest lot
    await given.purchase(merchant, member, 5_000, key="p2")  # 50 points, later lot
    reward = await given.reward(cost_points=80)

    await given.redeem(member, reward, key="r1")

    async with backend.database.read_engine.connect() as conn:
        lots = (
            await conn.execute(
                select(points_lots.c.points, points_lots.c.remaining).order_by(points_lots.c.id)
            )
        ).all()
    assert [tuple(lot) for lot in lots] == [(60, 0), (50, 30)]


async def test_member_history_lists_redemptions_and_ledger_newest_first(given: Scenario) -> None:
    merchant = await given.merchant("Tea House")
    member = await given.member()
    await given.purchase(merchant, member, 20_000, key="p1")
    reward = await given.reward("Tea set", cost_points=150)
    await given.redeem(member, reward, key="r1")

    data = await given.gql.data(
        """query { me {
            ledger(first: 1) { edges { node { kind points description } } pageInfo { hasNextPage endCursor } }
            redemptions { edges { node { points reward { name } } } }
        } }""",
        token=given.tokens.member(member.raw),
    )
    ledger = data["me"]["ledger"]
    assert ledger["edges"][0]["node"] == {
        "kind": "REDEEM",
        "points": -150,
        "description": "Redeemed for Tea set",
    }
    assert ledger["pageInfo"]["hasNextPage"] is True
    second = await given.gql.data(
        "query($after: String) { me { ledger(first: 5, after: $after) { edges { node { kind points } } "
        "pageInfo { hasNextPage } } } }",
        {"after": ledger["pageInfo"]["endCursor"]},
        given.tokens.member(member.raw),
    )
    assert [e["node"] for e in second["me"]["ledger"]["edges"]] == [{"kind": "EARN", "points": 200}]
    assert second["me"]["ledger"]["pageInfo"]["hasNextPage"] is False
    assert data["me"]["redemptions"]["edges"][0]["node"] == {"points": 150, "reward": {"name": "Tea set"}}
