"""Steps for vouchers: a member redeems a reward and gets its voucher; a merchant redeems it."""

from __future__ import annotations

from typing import Any

from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.pos_steps import execute

REDEEM_REWARD = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) {
    redemption { id status voucher { code status expiresAt usedAt } }
    errors { code field message }
  }
}"""
REDEEM_VOUCHER = """mutation($input: RedeemVoucherInput!) {
  redeemVoucher(input: $input) {
    voucher { code status usedAt } reward { name } errors { code field message retryAfter }
  }
}"""
REDEMPTION = "query($id: ID!) { node(id: $id) { ... on Redemption { status voucher { code status } } } }"


async def voucher_for(given: Scenario, member: Ids, reward: Ids, key: str) -> tuple[str, str]:
    """The redemption's global id and the voucher code shown in redeemReward's answer."""
    data = await given.gql.data(
        REDEEM_REWARD,
        {"input": {"rewardId": reward.gid, "idempotencyKey": key}},
        given.tokens.member(member.raw),
    )
    answer = data["redeemReward"]
    assert answer["errors"] == [], answer
    return answer["redemption"]["id"], answer["redemption"]["voucher"]["code"]


async def redeem_voucher(given: Scenario, merchant: Ids, code: str, key: str) -> dict[str, Any]:
    data = await given.gql.data(
        REDEEM_VOUCHER, {"input": {"code": code, "idempotencyKey": key}}, given.tokens.merchant(merchant.raw)
    )
    return dict(data["redeemVoucher"])


async def restore_wallet_settings(backend: Backend) -> None:
    """The programme row outlives each test's wipe: put its voucher and closure settings back."""
    await execute(
        backend,
        "UPDATE programme SET voucher_valid_days = 30, closure_policy = 'FORFEIT', closure_grace_days = 30, "
        "catalogue_version = catalogue_version + 1",
    )
