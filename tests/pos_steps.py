"""Readable steps for POS redemptions and reward fulfilment, through the API as the wallet, the POS
and the admin console call it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text, update

from persistence.tables import points_lots
from tests.builders import Ids, Scenario
from tests.conftest import Backend

REDEMPTION_FIELDS = """id kind status points capturedPoints holdExpiresAt pointsReturned finalizedAt
  merchant { name } purchase { id } reward { name }"""
CREATE_CODE = (
    """mutation { createRedemptionCode(input: {}) { code expiresAt errors { code field message } } }"""
)


def _redemption_mutation(name: str, input_type: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
        f"redemption {{ {REDEMPTION_FIELDS} }} errors {{ code field message }} }} }}"
    )


AUTHORIZE = _redemption_mutation("authorizeRedemption", "AuthorizeRedemptionInput")
CAPTURE = _redemption_mutation("captureRedemption", "CaptureRedemptionInput")
VOID = _redemption_mutation("voidRedemption", "VoidRedemptionInput")
FULFIL = _redemption_mutation("fulfilRedemption", "FulfilRedemptionInput")
CANCEL = _redemption_mutation("cancelRedemption", "CancelRedemptionInput")
CREATE_REWARD = """mutation($input: CreateRewardInput!) {
  createReward(input: $input) {
    reward { id perMemberLimit limitPeriod tierIds } errors { code field message }
  }
}"""
REWARD_STOCK = "query($id: ID!) { node(id: $id) { ... on Reward { stock } } }"


class Pos:
    def __init__(self, given: Scenario) -> None:
        self.given = given
        self.gql = given.gql
        self.tokens = given.tokens

    async def code(self, member: Ids) -> str:
        data = await self.gql.data(CREATE_CODE, token=self.tokens.member(member.raw))
        payload = data["createRedemptionCode"]
        assert payload["errors"] == [], payload
        return str(payload["code"])

    async def authorize(
        self,
        merchant: Ids,
        code: str,
        key: str,
        points: int | None = None,
        reward: Ids | None = None,
    ) -> dict[str, Any]:
        variables: dict[str, Any] = {"code": code, "idempotencyKey": key}
        if points is not None:
            variables["points"] = points
        if reward is not None:
            variables["rewardId"] = reward.gid
        data = await self.gql.data(AUTHORIZE, {"input": variables}, self.tokens.merchant(merchant.raw))
        return data["authorizeRedemption"]

    async def hold(self, merchant: Ids, member: Ids, points: int, key: str) -> str:
        """A fresh code and an authorization of `points`: the hold's id."""
        result = await self.authorize(merchant, await self.code(member), key, points=points)
        assert result["errors"] == [], result
        return str(result["redemption"]["id"])

    async def capture(
        self,
        merchant: Ids,
        redemption_id: str,
        key: str,
        points: int | None = None,
        purchase_id: str | None = None,
    ) -> dict[str, Any]:
        variables: dict[str, Any] = {"redemptionId": redemption_id, "idempotencyKey": key}
        if points is not None:
            variables["points"] = points
        if purchase_id is not None:
            variables["purchaseId"] = purchase_id
        data = await self.gql.data(CAPTURE, {"input": variables}, self.tokens.merchant(merchant.raw))
        return data["captureRedemption"]

    async def void(self, merchant: Ids, redemption_id: str, key: str) -> dict[str, Any]:
        data = await self.gql.data(
            VOID,
            {"input": {"redemptionId": redemption_id, "idempotencyKey": key}},
            self.tokens.merchant(merchant.raw),
        )
        return data["voidRedemption"]

    async def fulfil(self, redemption_id: str) -> dict[str, Any]:
        data = await self.gql.data(FULFIL, {"input": {"redemptionId": redemption_id}}, self.given.admin)
        return data["fulfilRedemption"]

    async def cancel(
        self,
        redemption_id: str,
        key: str,
        reason: str = "out of stock at the store",
        token: str | None = None,
    ) -> dict[str, Any]:
        data = await self.gql.data(
            CANCEL,
            {"input": {"redemptionId": redemption_id, "reason": reason, "idempotencyKey": key}},
            token or self.given.admin,
        )
        return data["cancelRedemption"]

    async def create_reward(self, **fields: Any) -> dict[str, Any]:
        data = await self.gql.data(
            CREATE_REWARD,
            {"input": {"name": "Coffee", "costPoints": 100, **fields}},
            self.given.admin,
        )
        return data["createReward"]

    async def reward(self, **fields: Any) -> Ids:
        payload = await self.create_reward(**fields)
        assert payload["errors"] == [], payload
        return Ids(payload["reward"]["id"])

    async def stock(self, reward: Ids) -> int | None:
        data = await self.gql.data(REWARD_STOCK, {"id": reward.gid}, self.given.admin)
        return data["node"]["stock"]  # type: ignore[no-any-return]


async def lots(backend: Backend, member: Ids) -> list[tuple[int, int, str]]:
    """(points, remaining, expiry date) of the member's lots, in id order."""
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(
            select(points_lots.c.points, points_lots.c.remaining, points_lots.c.expires_at)
            .where(points_lots.c.member_id == member.raw)
            .order_by(points_lots.c.id)
        )
        return [(row.points, row.remaining, row.expires_at.date().isoformat()) for row in rows]


async def execute(backend: Backend, sql: str, **params: object) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(text(sql), params)


async def scalar(backend: Backend, sql: str, **params: object) -> Any:
    async with backend.database.read_engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def set_lot_expiries(backend: Backend, member: Ids, *expiries: datetime) -> None:
    """Give the member's lots, in id order, these expiry dates."""
    async with backend.database.write_engine.begin() as conn:
        ids = (
            await conn.execute(
                select(points_lots.c.id)
                .where(points_lots.c.member_id == member.raw)
                .order_by(points_lots.c.id)
            )
        ).scalars()
        for lot_id, expires_at in zip(ids, expiries, strict=True):
            await conn.execute(
                update(points_lots).where(points_lots.c.id == lot_id).values(expires_at=expires_at)
            )


async def set_column(backend: Backend, table: Table, row_id: int, **values: object) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == row_id).values(**values))
