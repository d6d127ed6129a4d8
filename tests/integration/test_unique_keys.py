"""A business key taken by a transaction that committed first (the loser of a race, past its own
check) is ALREADY_EXISTS from the repository that inserts, read the same way on both databases;
any other integrity error stays an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from domain.errors import AlreadyExists
from domain.members import Contact, Profile
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario, raw_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer

NOW = datetime(2026, 11, 27, tzinfo=UTC)


async def enrol(
    backend: Backend, external_ref: str, referral_code: str, referred_by: int | None = None
) -> None:
    async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
        await uow.members.add(
            external_ref=external_ref,
            profile=Profile(),
            contact=Contact(),
            referral_code=referral_code,
            referred_by=referred_by,
            at=NOW,
        )
        await uow.commit()


async def test_a_taken_external_ref_is_already_exists(backend: Backend) -> None:
    await enrol(backend, "cust-1", "REF1")

    with pytest.raises(AlreadyExists) as refused:
        await enrol(backend, "cust-1", "REF2")

    assert refused.value.field == ("externalRef",)


async def test_other_integrity_errors_are_not_mistaken_for_a_taken_key(backend: Backend) -> None:
    await enrol(backend, "cust-1", "REF1")

    with pytest.raises(IntegrityError):
        await enrol(backend, "cust-2", "REF1")  # a referral code clash is not the caller's doing


async def test_a_taken_coupon_code_is_already_exists(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    created = await create_offer(
        given,
        name="¥20 off with a code",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 2_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
    )
    offer_id = raw_id(created["offer"]["id"])
    async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
        await uow.offers.add_coupons(offer_id, ["SPRING"], 10, NOW)
        await uow.commit()

    with pytest.raises(AlreadyExists) as refused:
        async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
            await uow.offers.add_coupons(offer_id, ["SPRING"], 10, NOW)

    assert refused.value.field == ("sharedCode",)
