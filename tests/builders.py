"""Readable helpers that set up a scenario through the API, the way an admin console would."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from tests.conftest import GraphQLClient, Tokens


def raw_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


def global_id(type_name: str, value: int) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


@dataclass
class Ids:
    gid: str

    @property
    def raw(self) -> int:
        return raw_id(self.gid)


ENROLL = """mutation($input: EnrollMemberInput!) {
  enrollMember(input: $input) { member { id referralCode } errors { code field message } }
}"""
CREATE_MERCHANT = """mutation($input: CreateMerchantInput!) {
  createMerchant(input: $input) { merchant { id } errors { code field message } }
}"""
CREATE_REWARD = """mutation($input: CreateRewardInput!) {
  createReward(input: $input) { reward { id } errors { code field message } }
}"""
POST_PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase { id pointsEarned pointsPending amount { amountMinor currency } }
    errors { code field message }
  }
}"""
REDEEM = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) { redemption { id points } errors { code field message } }
}"""
ADJUST = """mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    adjustment { id points reasonCode } member { balance { available } } errors { code field message }
  }
}"""
BALANCE = "query { me { balance { available pending held lifetimeEarned lifetimeRedeemed } } }"
LINK_MERCHANT = """mutation($input: LinkMerchantInput!) {
  linkMerchant(input: $input) { link { memberRef } errors { code field message } }
}"""


class Scenario:
    """An admin sets things up; tests then act as merchants and members."""

    def __init__(self, gql: GraphQLClient, tokens: Tokens) -> None:
        self.gql = gql
        self.tokens = tokens
        self.admin = tokens.admin()
        self._refs = 0
        self._member_refs: dict[tuple[str, str], str] = {}

    async def member(self, external_ref: str | None = None, **fields: Any) -> Ids:
        self._refs += 1
        data = await self.gql.data(
            ENROLL, {"input": {"externalRef": external_ref or f"cust-{self._refs}", **fields}}, self.admin
        )
        payload = data["enrollMember"]
        assert payload["errors"] == [], payload
        return Ids(payload["member"]["id"])

    async def merchant(self, name: str = "Noodle Bar", category: str = "DINING", **fields: Any) -> Ids:
        data = await self.gql.data(
            CREATE_MERCHANT, {"input": {"name": name, "category": category, **fields}}, self.admin
        )
        assert data["createMerchant"]["errors"] == [], data
        return Ids(data["createMerchant"]["merchant"]["id"])

    async def reward(self, name: str = "Coffee", cost_points: int = 100, stock: int | None = None) -> Ids:
        data = await self.gql.data(
            CREATE_REWARD, {"input": {"name": name, "costPoints": cost_points, "stock": stock}}, self.admin
        )
        assert data["createReward"]["errors"] == [], data
        return Ids(data["createReward"]["reward"]["id"])

    async def member_ref(self, merchant: Ids, member: Ids) -> str:
        """The merchant's reference for the member: the member links itself to the merchant once."""
        key = (merchant.gid, member.gid)
        if key not in self._member_refs:
            data = await self.gql.data(
                LINK_MERCHANT, {"input": {"merchantId": merchant.gid}}, self.tokens.member(member.raw)
            )
            assert data["linkMerchant"]["errors"] == [], data
            self._member_refs[key] = data["linkMerchant"]["link"]["memberRef"]
        return self._member_refs[key]

    async def purchase(
        self, merchant: Ids, member: Ids, amount_minor: int, key: str, currency: str = "CNY", **fields: Any
    ) -> dict[str, Any]:
        """A purchase the merchant posts for a member linked to it."""
        data = await self.gql.data(
            POST_PURCHASE,
            {
                "input": {
                    "memberRef": await self.member_ref(merchant, member),
                    "amount": {"amountMinor": amount_minor, "currency": currency},
                    "idempotencyKey": key,
                    **fields,
                }
            },
            self.tokens.merchant(merchant.raw),
        )
        return data["postPurchase"]

    async def card_purchase(
        self, merchant: Ids, member_gid: str, amount_minor: int, key: str, currency: str = "CNY"
    ) -> dict[str, Any]:
        """A purchase the bank's card processing posts for a member named by id."""
        variables = {
            "input": {
                "memberId": member_gid,
                "merchantId": merchant.gid,
                "amount": {"amountMinor": amount_minor, "currency": currency},
                "idempotencyKey": key,
            }
        }
        data = await self.gql.data(POST_PURCHASE, variables, self.tokens.processor())
        return data["postPurchase"]

    async def redeem(self, member: Ids, reward: Ids, key: str) -> dict[str, Any]:
        data = await self.gql.data(
            REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": key}}, self.tokens.member(member.raw)
        )
        return data["redeemReward"]

    async def adjust(self, member: Ids, points: int, key: str, reason: str = "GOODWILL") -> dict[str, Any]:
        data = await self.gql.data(
            ADJUST,
            {
                "input": {
                    "memberId": member.gid,
                    "points": points,
                    "reasonCode": reason,
                    "idempotencyKey": key,
                }
            },
            self.admin,
        )
        return data["adjustPoints"]

    async def referral_code(self, member: Ids) -> str:
        data = await self.gql.data(
            "query($id: ID!) { member(id: $id) { referralCode } }", {"id": member.gid}, self.admin
        )
        return str(data["member"]["referralCode"])

    async def balance(self, member: Ids) -> dict[str, int]:
        data = await self.gql.data(BALANCE, token=self.tokens.member(member.raw))
        return data["me"]["balance"]

    async def risk_rule(self, kind: str, **settings: Any) -> None:
        """Change the (first) risk rule of `kind`, e.g. raise MEMBER_VELOCITY's limit for a test that
        posts more purchases for one member than the default lets by unreviewed."""
        rules = await self.gql.data("query { riskRules { id kind } }", token=self.admin)
        rule = next(r["id"] for r in rules["riskRules"] if r["kind"] == kind)
        update = (
            "mutation($i: UpdateRiskRuleInput!) { updateRiskRule(input: $i) { errors { code message } } }"
        )
        data = await self.gql.data(update, {"i": {"ruleId": rule, **settings}}, self.admin)
        assert data["updateRiskRule"]["errors"] == [], data

    async def funded_member(self, points: int) -> Ids:
        """A member holding exactly `points` available, credited by an admin adjustment."""
        member = await self.member()
        result = await self.adjust(member, points, key=f"fund-{member.gid}")
        assert result["errors"] == [], result
        return member
