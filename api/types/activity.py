"""Purchases, redemptions and adjustments: the facts behind ledger entries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from api.access import (
    can_read_catalogue,
    can_read_purchase,
    can_read_redemption,
    can_read_reward,
    owns_member_data,
)
from api.context import Info
from api.types.catalogue import Merchant, Reward
from api.types.enums import Channel, ReasonCode, RedemptionKind, RedemptionStatus
from api.types.members import Member, load_member
from api.types.nodes import LoadedNode
from domain import purchases as dp
from domain import refunds as drf
from domain import rewards as dr
from domain.purchase_lists import purchase_status

if TYPE_CHECKING:
    from api.types.offers import OfferAward
    from api.types.purchase_lists import PurchaseStatus
    from api.types.vouchers import Voucher


@strawberry.type(description="An amount of money in one currency.")
class Money:
    amount_minor: int = strawberry.field(description="Integer minor units (cents, fen).")
    currency: str = strawberry.field(description="ISO 4217 code.")


@strawberry.type(description="A purchase a merchant posted for a member, and the points it earned.")
class Purchase(LoadedNode[dp.Purchase]):
    id: relay.NodeID[int]
    amount: Money = strawberry.field(description="What the purchase cost, before the offers' discounts.")
    channel: Channel = strawberry.field(description="Online or in store.")
    occurred_at: datetime = strawberry.field(description="When the member bought.")
    reference: str | None = strawberry.field(description="The merchant's own order id.")
    points_earned: int = strawberry.field(description="All points it earned, base and offers.")
    points_pending: int = strawberry.field(description="Of pointsEarned, those still in the return window.")
    points_refunded: int = strawberry.field(description="Of pointsEarned, what refunds took back.")
    created_at: datetime = strawberry.field(description="When it was posted.")
    member_id: strawberry.Private[int]
    merchant_id: strawberry.Private[int]
    refunded_minor: strawberry.Private[int]

    @strawberry.field(description="Where it stands: pending, settled, partially or wholly refunded.")
    def status(self) -> Annotated[PurchaseStatus, strawberry.lazy("api.types.purchase_lists")]:
        return purchase_status(self.amount.amount_minor, self.refunded_minor, self.points_pending)

    @strawberry.field(description="What refunds gave back so far, in the purchase's currency.")
    def refunded_amount(self) -> Money:
        return Money(amount_minor=self.refunded_minor, currency=self.amount.currency)

    @strawberry.field(description="The purchase's refunds, oldest first.")
    async def refunds(self, info: Info) -> list[Refund]:
        refunds = await info.context.loaders.purchase_refunds.load(self.id)
        return [Refund.from_domain(r) for r in refunds if can_read_purchase(info, r)]

    @strawberry.field(description="The buyer, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @strawberry.field(description="Where it was bought.")
    async def merchant(self, info: Info) -> Merchant | None:
        if not can_read_catalogue(info):
            return None
        merchant = await info.context.loaders.merchants.load(self.merchant_id)
        return Merchant.from_domain(merchant) if merchant else None

    @strawberry.field(description="What each offer gave this purchase.")
    async def applied_offers(
        self, info: Info
    ) -> list[Annotated[OfferAward, strawberry.lazy("api.types.offers")]]:
        from api.types.offers import OfferAward

        awards = await info.context.loaders.awards.load(self.id)
        return [OfferAward.from_domain(a, self.amount.currency) for a in awards]

    @strawberry.field(description="The points earned at the base rate, before offers' bonuses.")
    async def base_points(self, info: Info) -> int:
        # pointsEarned already holds the pending points (pointsPending is the part not yet matured).
        awards = await info.context.loaders.awards.load(self.id)
        return self.points_earned - sum(a.points for a in awards)

    @strawberry.field(description="The amount after the offers' discounts: what the member pays.")
    async def paid(self, info: Info) -> Money:
        awards = await info.context.loaders.awards.load(self.id)
        off = sum(a.discount_minor for a in awards)
        return Money(amount_minor=self.amount.amount_minor - off, currency=self.amount.currency)

    @classmethod
    def from_domain(cls, p: dp.Purchase) -> Purchase:
        return cls(
            id=p.id,
            amount=Money(amount_minor=p.amount.amount_minor, currency=p.amount.currency),
            channel=p.channel,
            occurred_at=p.occurred_at,
            reference=p.reference,
            points_earned=p.points_earned,
            points_pending=p.points_pending,
            points_refunded=p.points_refunded,
            created_at=p.created_at,
            member_id=p.member_id,
            merchant_id=p.merchant_id,
            refunded_minor=p.refunded_minor,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dp.Purchase | None]:
        return await info.context.loaders.purchases.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, purchase: dp.Purchase) -> bool:
        return can_read_purchase(info, purchase)


@strawberry.type(description="Money a merchant gave back on a purchase, and the points that went with it.")
class Refund(LoadedNode[drf.Refund]):
    id: relay.NodeID[int]
    amount: Money = strawberry.field(description="The money given back.")
    points_reversed: int = strawberry.field(
        description="The purchase's points taken back: from pending, from available, and owed."
    )
    debt_created: int = strawberry.field(
        description="Of pointsReversed, those the member no longer had: it owes them (balance.debt)."
    )
    points_returned: int = strawberry.field(description="Points the purchase was paid with, given back.")
    reference: str | None = strawberry.field(description="The merchant's own refund id.")
    created_at: datetime = strawberry.field(description="When it was made.")
    purchase_id: strawberry.Private[int]
    member_id: strawberry.Private[int]

    @strawberry.field(description="The purchase refunded.")
    async def purchase(self, info: Info) -> Purchase | None:
        found = await info.context.loaders.purchases.load(self.purchase_id)
        return Purchase.from_domain(found) if found and can_read_purchase(info, found) else None

    @strawberry.field(description="The buyer, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @classmethod
    def from_domain(cls, r: drf.Refund) -> Refund:
        return cls(
            id=r.id,
            amount=Money(amount_minor=r.amount.amount_minor, currency=r.amount.currency),
            points_reversed=r.points_reversed,
            debt_created=r.debt_created,
            points_returned=r.points_returned,
            reference=r.reference,
            created_at=r.created_at,
            purchase_id=r.purchase_id,
            member_id=r.member_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[drf.Refund | None]:
        return await info.context.loaders.refunds.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, refund: drf.Refund) -> bool:
        return can_read_purchase(info, refund)


@strawberry.type(
    description="A catalogue reward the member redeemed (kind REWARD: REQUESTED, then FULFILLED or "
    "CANCELLED), or points a merchant held at its POS (kind POS: AUTHORIZED, then CAPTURED, VOIDED "
    "or EXPIRED)."
)
class Redemption(LoadedNode[dr.Redemption]):
    id: relay.NodeID[int]
    kind: RedemptionKind = strawberry.field(description="A catalogue reward or a POS hold.")
    points: int = strawberry.field(description="The reward's cost, or the points the POS held.")
    status: RedemptionStatus = strawberry.field(description="Where it stands.")
    captured_points: int | None = strawberry.field(description="What the merchant spent of a POS hold.")
    hold_expires_at: datetime | None = strawberry.field(
        description="Until when a POS hold may be captured; after it the points go back."
    )
    points_returned: int = strawberry.field(
        description="Points given back: a cancelled reward's, or by refunds of the purchase they paid for."
    )
    finalized_at: datetime | None = strawberry.field(description="When it left REQUESTED or AUTHORIZED.")
    created_at: datetime = strawberry.field(description="When it was made.")
    member_id: strawberry.Private[int]
    reward_id: strawberry.Private[int | None]
    merchant_id: strawberry.Private[int | None]
    purchase_id: strawberry.Private[int | None]
    voucher_code: strawberry.Private[str | None] = None  # in redeemReward's first answer only

    @strawberry.field(description="The member, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @strawberry.field(
        description="The voucher the member shows to be handed a redeemed reward (kind REWARD; the "
        "MEMBER itself and ADMIN; null for others and for redemptions made before vouchers)."
    )
    async def voucher(self, info: Info) -> Annotated[Voucher, strawberry.lazy("api.types.vouchers")] | None:
        from api.types.vouchers import Voucher

        found = await info.context.loaders.vouchers.load(self.id)
        return None if found is None else Voucher.from_domain(found, self.voucher_code)

    @strawberry.field(description="The reward redeemed; null once it is inactive, except for admins.")
    async def reward(self, info: Info) -> Reward | None:
        if self.reward_id is None:
            return None
        reward = await info.context.loaders.rewards.load(self.reward_id)
        return Reward.from_domain(reward) if reward and can_read_reward(info, reward) else None

    @strawberry.field(description="The merchant that held the points (kind POS).")
    async def merchant(self, info: Info) -> Merchant | None:
        if self.merchant_id is None or not can_read_catalogue(info):
            return None
        merchant = await info.context.loaders.merchants.load(self.merchant_id)
        return Merchant.from_domain(merchant) if merchant else None

    @strawberry.field(description="The merchant's purchase the captured points paid for, if it named one.")
    async def purchase(self, info: Info) -> Purchase | None:
        if self.purchase_id is None:
            return None
        purchase = await info.context.loaders.purchases.load(self.purchase_id)
        return Purchase.from_domain(purchase) if purchase and can_read_purchase(info, purchase) else None

    @classmethod
    def from_domain(cls, r: dr.Redemption) -> Redemption:
        return cls(
            id=r.id,
            kind=r.kind,
            points=r.points,
            status=r.status,
            captured_points=r.captured_points,
            hold_expires_at=r.hold_expires_at,
            points_returned=r.points_returned,
            finalized_at=r.finalized_at,
            created_at=r.created_at,
            member_id=r.member_id,
            reward_id=r.reward_id,
            merchant_id=r.merchant_id,
            purchase_id=r.purchase_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dr.Redemption | None]:
        return await info.context.loaders.redemptions.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, redemption: dr.Redemption) -> bool:
        return can_read_redemption(info, redemption)


@strawberry.type(description="Points an admin added or took away by hand, with the reason; audited.")
class Adjustment(LoadedNode[dp.Adjustment]):
    id: relay.NodeID[int]
    points: int = strawberry.field(description="Signed: positive added, negative taken away.")
    reason_code: ReasonCode = strawberry.field(description="Why the points were adjusted.")
    note: str | None = strawberry.field(description="The admin's free text, if any.")
    created_at: datetime = strawberry.field(description="When it was made.")
    member_id: strawberry.Private[int]

    @strawberry.field(description="The member adjusted, when the caller may read it.")
    async def member(self, info: Info) -> Member | None:
        return await load_member(info, self.member_id)

    @classmethod
    def from_domain(cls, a: dp.Adjustment) -> Adjustment:
        return cls(
            id=a.id,
            points=a.points,
            reason_code=a.reason_code,
            note=a.note,
            created_at=a.created_at,
            member_id=a.member_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dp.Adjustment | None]:
        return await info.context.loaders.adjustments.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, adjustment: dp.Adjustment) -> bool:
        return owns_member_data(info, adjustment.member_id)
