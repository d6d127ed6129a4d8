"""Who a merchant or processor acts for, over the fakes: the member's one-time code (once for the
checkout's earning, checked without use by a dry run, until its last instant), the reference of a
standing link (normalised, retired by unlinking, new on relinking), one refusal for everything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import member_links, redemption_codes
from domain.actors import Actor, Role
from domain.commands import PresentedMember
from domain.errors import ErrorCode, NotPresented
from domain.members import MemberStatus
from domain.services.presence import link_merchant, merchant_member, processor_member, unlink_merchant
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import given_member, given_merchant, member_actor, raised

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
CODE = "2345678923"


async def given_code(
    db: FakeDatabase, member_id: int, expires_at: datetime = NOW + timedelta(minutes=5)
) -> None:
    seed = FakeUnitOfWork(db)
    async with seed:
        assert await seed.redemption_codes.add(member_id, redemption_codes.code_hash(CODE), expires_at, NOW)
        await seed.commit()


async def acting_for(
    db: FakeDatabase,
    merchant_id: int,
    presented: PresentedMember,
    *,
    at: datetime = NOW,
    checkout: bool = True,
) -> int:
    uow = FakeUnitOfWork(db)
    async with uow:
        member = await merchant_member(uow, merchant_id, presented, at, checkout=checkout)
        await uow.commit()
    return member.id


async def test_a_code_serves_one_checkout_earning_and_a_dry_run_does_not_use_it(db: FakeDatabase) -> None:
    member = await given_member(db)
    shop = await given_merchant(db)
    await given_code(db, member.id)

    dry = [await acting_for(db, shop.id, PresentedMember(code=CODE), checkout=False) for _ in range(2)]
    typed = await acting_for(db, shop.id, PresentedMember(code=" 2345-678 923 ".lower()))
    again = await raised(acting_for(db, shop.id, PresentedMember(code=CODE)))
    dry_after = await raised(acting_for(db, shop.id, PresentedMember(code=CODE), checkout=False))

    assert dry == [member.id, member.id]
    assert typed == member.id  # case, spaces and dashes do not matter
    assert (again.code, again.field) == (ErrorCode.NOT_FOUND, ("memberCode",))
    assert (dry_after.code, dry_after.field) == (ErrorCode.NOT_FOUND, ("memberCode",))


async def test_a_code_works_until_the_instant_before_it_expires(db: FakeDatabase) -> None:
    member = await given_member(db)
    shop = await given_merchant(db)
    expires = NOW + timedelta(minutes=5)
    await given_code(db, member.id, expires)

    at_expiry = await raised(acting_for(db, shop.id, PresentedMember(code=CODE), at=expires))
    just_before = await acting_for(
        db, shop.id, PresentedMember(code=CODE), at=expires - timedelta(microseconds=1)
    )

    assert isinstance(at_expiry, NotPresented)
    assert just_before == member.id


async def test_a_malformed_code_or_reference_is_not_even_looked_up(db: FakeDatabase) -> None:
    shop = await given_merchant(db)

    code = await raised(acting_for(db, shop.id, PresentedMember(code="OIL0123456")))
    ref = await raised(acting_for(db, shop.id, PresentedMember(ref="MR" + "1" * 20)))

    assert [(e.code, e.field) for e in (code, ref)] == [
        (ErrorCode.NOT_FOUND, ("memberCode",)),
        (ErrorCode.NOT_FOUND, ("memberRef",)),
    ]


async def test_a_code_given_as_a_reference_or_a_reference_given_as_a_code_presents_no_one(
    db: FakeDatabase,
) -> None:
    member = await given_member(db)
    shop = await given_merchant(db)
    await given_code(db, member.id)
    link = await link_merchant(shop.id, actor=member_actor(member.id), uow=FakeUnitOfWork(db), now=NOW)

    code_as_ref = await raised(acting_for(db, shop.id, PresentedMember(ref=CODE)))
    ref_as_code = await raised(acting_for(db, shop.id, PresentedMember(code=link.member_ref)))
    ref_as_external = await raised(acting_for(db, shop.id, PresentedMember(external_ref=link.member_ref)))

    assert [(e.code, e.field) for e in (code_as_ref, ref_as_code, ref_as_external)] == [
        (ErrorCode.NOT_FOUND, ("memberRef",)),
        (ErrorCode.NOT_FOUND, ("memberCode",)),
        (ErrorCode.NOT_FOUND, ("memberExternalRef",)),
    ]
    # each is still good in its own field: the code was not used up by the refusals
    assert await acting_for(db, shop.id, PresentedMember(code=CODE)) == member.id
    assert await acting_for(db, shop.id, PresentedMember(ref=link.member_ref)) == member.id


async def test_a_link_gives_a_reference_that_works_until_unlinked_and_relinking_gives_a_new_one(
    db: FakeDatabase,
) -> None:
    member = await given_member(db)
    shop, other = await given_merchant(db), await given_merchant(db, "Noodle Bar")
    actor = member_actor(member.id)

    link = await link_merchant(shop.id, actor=actor, uow=FakeUnitOfWork(db), now=NOW)
    same = await link_merchant(shop.id, actor=actor, uow=FakeUnitOfWork(db), now=NOW + timedelta(days=1))
    served = await acting_for(db, shop.id, PresentedMember(ref=link.member_ref.lower()))
    elsewhere = await raised(acting_for(db, other.id, PresentedMember(ref=link.member_ref)))
    unlinked = await unlink_merchant(shop.id, actor=actor, uow=FakeUnitOfWork(db), now=NOW)
    retired = await raised(acting_for(db, shop.id, PresentedMember(ref=link.member_ref)))
    twice = await raised(unlink_merchant(shop.id, actor=actor, uow=FakeUnitOfWork(db), now=NOW))
    relinked = await link_merchant(shop.id, actor=actor, uow=FakeUnitOfWork(db), now=NOW)

    assert member_links.well_formed(link.member_ref)
    assert (link.merchant_id, link.member_id, link.linked_at) == (shop.id, member.id, NOW)
    assert same == link  # the standing link, not a new one
    assert served == member.id
    assert isinstance(elsewhere, NotPresented)
    assert unlinked is True
    assert isinstance(retired, NotPresented)
    assert (twice.code, twice.field) == (ErrorCode.NOT_FOUND, ("merchantId",))
    assert relinked.member_ref != link.member_ref


async def test_linking_needs_an_active_member_a_real_merchant_and_a_member_token(db: FakeDatabase) -> None:
    locked = await given_member(db, "CRM-2", status=MemberStatus.LOCKED)
    active = await given_member(db)
    shop = await given_merchant(db)
    merchant = Actor(Role.MERCHANT, "pos-1", merchant_id=shop.id)

    by_locked = await raised(
        link_merchant(shop.id, actor=member_actor(locked.id), uow=FakeUnitOfWork(db), now=NOW)
    )
    to_nowhere = await raised(
        link_merchant(999, actor=member_actor(active.id), uow=FakeUnitOfWork(db), now=NOW)
    )
    by_merchant = await raised(link_merchant(shop.id, actor=merchant, uow=FakeUnitOfWork(db), now=NOW))

    assert (by_locked.code, by_locked.field) == (ErrorCode.MEMBER_LOCKED, ("memberId",))
    assert (to_nowhere.code, to_nowhere.field) == (ErrorCode.NOT_FOUND, ("merchantId",))
    assert by_merchant.code is ErrorCode.FORBIDDEN
    assert db.tables.member_links == {}


async def test_a_presented_member_that_is_locked_is_told_so_and_two_names_are_one_too_many(
    db: FakeDatabase,
) -> None:
    member = await given_member(db)
    shop = await given_merchant(db)
    link = await link_merchant(shop.id, actor=member_actor(member.id), uow=FakeUnitOfWork(db), now=NOW)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.members.set_status(member.id, MemberStatus.LOCKED, "review")
        await seed.commit()

    locked = await raised(acting_for(db, shop.id, PresentedMember(ref=link.member_ref)))
    both = await raised(acting_for(db, shop.id, PresentedMember(ref=link.member_ref, code=CODE)))
    none = await raised(acting_for(db, shop.id, PresentedMember()))

    assert (locked.code, locked.field, locked.message) == (
        ErrorCode.MEMBER_LOCKED,
        ("memberRef",),
        "member is locked",
    )
    assert [(e.code, e.field) for e in (both, none)] == [(ErrorCode.VALIDATION, ("member",))] * 2


@pytest.mark.parametrize("naming", ["id", "externalRef"])
async def test_a_processor_names_any_member_by_id_or_external_ref(db: FakeDatabase, naming: str) -> None:
    member = await given_member(db, "BANK-0042")
    presented = (
        PresentedMember(member_id=member.id) if naming == "id" else PresentedMember(external_ref="BANK-0042")
    )
    unknown = PresentedMember(member_id=999) if naming == "id" else PresentedMember(external_ref="BANK-9")
    field = "memberId" if naming == "id" else "memberExternalRef"

    uow = FakeUnitOfWork(db)
    async with uow:
        found = await processor_member(uow, presented)
        missing = await raised(processor_member(uow, unknown))
        by_ref = await raised(processor_member(uow, PresentedMember(ref="MR" + "2" * 20)))

    assert found.id == member.id
    assert (missing.code, missing.message, missing.field) == (ErrorCode.NOT_FOUND, "no such member", (field,))
    assert (by_ref.code, by_ref.field) == (ErrorCode.VALIDATION, ("memberRef",))
