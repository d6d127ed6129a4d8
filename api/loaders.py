"""Per-request DataLoaders over the read model: a page of N items costs a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from strawberry.dataloader import DataLoader

from domain.clock import Clock
from domain.members import Balance, Member
from domain.merchants import Merchant, PartnerBrand
from domain.ports import ExpiringPoints, ReadModel
from domain.purchases import Adjustment, Purchase
from domain.rewards import Redemption, Reward

EXPIRING_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Loaders:
    members: DataLoader[int, Member | None]
    balances: DataLoader[int, Balance | None]
    expiring: DataLoader[int, list[ExpiringPoints]]
    merchants: DataLoader[int, Merchant | None]
    partners: DataLoader[int, PartnerBrand | None]
    rewards: DataLoader[int, Reward | None]
    purchases: DataLoader[int, Purchase | None]
    redemptions: DataLoader[int, Redemption | None]
    adjustments: DataLoader[int, Adjustment | None]


def build_loaders(reader: ReadModel, clock: Clock) -> Loaders:
    async def expiring(member_ids: list[int]) -> list[list[ExpiringPoints]]:
        return await reader.expiring(member_ids, clock.now() + EXPIRING_SOON)

    balances: DataLoader[int, Balance | None] = DataLoader(reader.balances)

    async def members(member_ids: list[int]) -> list[Member | None]:
        # A member's balance comes with it in the same statement; priming spares a second query.
        found = await reader.members_with_balances(member_ids)
        for pair in found:
            if pair is not None:
                balances.prime(pair[0].id, pair[1])
        return [pair[0] if pair else None for pair in found]

    return Loaders(
        members=DataLoader(members),
        balances=balances,
        expiring=DataLoader(expiring),
        merchants=DataLoader(reader.merchants),
        partners=DataLoader(reader.partners),
        rewards=DataLoader(reader.rewards),
        purchases=DataLoader(reader.purchases),
        redemptions=DataLoader(reader.redemptions),
        adjustments=DataLoader(reader.adjustments),
    )
