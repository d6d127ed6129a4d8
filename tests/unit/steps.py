"""Steps the service tests share: each runs one use case in its own unit of work over the shared
fake database, at the time of the clock the test moves."""

from __future__ import annotations

from domain.clock import FixedClock
from domain.commands import PostPurchase, RefundPurchase
from domain.money import Money
from domain.results import PurchaseResult, RefundResult
from domain.services.purchases import post_purchase
from domain.services.refunds import refund_purchase
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork, linked
from tests.unit.test_services import merchant_actor


async def buy(
    db: FakeDatabase,
    clock: FixedClock,
    merchant_id: int,
    member_id: int,
    minor: int,
    key: str,
    currency: str = "CNY",
    coupon_code: str | None = None,
) -> PurchaseResult:
    return await post_purchase(
        PostPurchase(
            linked(db, merchant_id, member_id), Money(minor, currency), key, coupon_code=coupon_code
        ),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )


async def refund(
    db: FakeDatabase,
    clock: FixedClock,
    merchant_id: int,
    purchase_id: int,
    key: str,
    minor: int | None = None,
    currency: str = "CNY",
    reference: str | None = None,
) -> RefundResult:
    return await refund_purchase(
        RefundPurchase(
            purchase_id, key, None if minor is None else Money(minor, currency), reference=reference
        ),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
