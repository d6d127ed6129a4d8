"""Who a merchant or processor acts for, at the edges: the messages a client reads, a reference
drawn again when taken, the links' refusals, and a processor's member that cannot act."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain import member_links
from domain.actors import Actor, Role
from domain.commands import PresentedMember
from domain.errors import ErrorCode
from domain.members import MemberStatus
from domain.services.presence import link_merchant, merchant_member, processor_member, unlink_merchant
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import given_member, given_merchant, member_actor, raised

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
NOT_PRESENTED = (
    "no member presented itself with this: use the code from the member's wallet or the"
    " reference its link to this merchant gave"
)


async def test_every_way_of_naming_a_member_a_merchant_was_not_given_gets_one_answer() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    uow = FakeUnitOfWork(db)

    async with uow:
        refusals = [
            await raised(merchant_member(uow, shop.id, presented, NOW, checkout=True))
            for presented in (
                PresentedMember(member_id=member.id),
                PresentedMember(external_ref="CRM-1"),
                PresentedMember(code="2345678923"),
                PresentedMember(ref=member_links.new_member_ref()),
            )
        ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.NOT_FOUND, NOT_PRESENTED, ("memberId",)),
        (ErrorCode.NOT_FOUND, NOT_PRESENTED, ("memberExternalRef",)),
        (ErrorCode.NOT_FOUND, NOT_PRESENTED, ("memberCode",)),
        (ErrorCode.NOT_FOUND, NOT_PRESENTED, ("memberRef",)),
    ]
    assert all(e.wrong_code for e in refusals)


async def test_naming_a_member_twice_or_not_at_all_says_to_name_it_once() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    async with uow:
        both = await raised(processor_member(uow, PresentedMember(member_id=1, external_ref="CRM-1")))
        none = await raised(processor_member(uow, PresentedMember()))
        by_code = await raised(processor_member(uow, PresentedMember(code="2345678923")))

    assert [(e.code, e.message, e.field) for e in (both, none)] == [
        (ErrorCode.VALIDATION, "name the member in exactly one way", ("member",))
    ] * 2
    assert (by_code.code, by_code.message, by_code.field) == (
        ErrorCode.VALIDATION,
        "a processor names the member by memberId or memberExternalRef",
        ("memberCode",),
    )


@pytest.mark.parametrize("naming", ["id", "externalRef"])
async def test_a_processor_may_not_post_for_a_locked_member(naming: str) -> None:
    db = FakeDatabase()
    member = await given_member(db, "BANK-1", status=MemberStatus.LOCKED)
    presented = (
        PresentedMember(member_id=member.id) if naming == "id" else PresentedMember(external_ref="BANK-1")
    )
    field = "memberId" if naming == "id" else "memberExternalRef"
    uow = FakeUnitOfWork(db)

    async with uow:
        error = await raised(processor_member(uow, presented))

    assert (error.code, error.message, error.field) == (ErrorCode.MEMBER_LOCKED, "member is locked", (field,))


async def test_a_reference_taken_by_another_link_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    first = await given_member(db, "CRM-1")
    second = await given_member(db, "CRM-2")
    shop = await given_merchant(db)
    taken = await link_merchant(shop.id, actor=member_actor(first.id), uow=FakeUnitOfWork(db), now=NOW)
    fresh = member_links.new_member_ref()
    draws = iter([taken.member_ref, fresh])
    monkeypatch.setattr(member_links, "new_member_ref", lambda: next(draws))

    link = await link_merchant(shop.id, actor=member_actor(second.id), uow=FakeUnitOfWork(db), now=NOW)

    assert (link.member_id, link.member_ref) == (second.id, fresh)


async def test_after_five_taken_references_no_link_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    first = await given_member(db, "CRM-1")
    second = await given_member(db, "CRM-2")
    shop = await given_merchant(db)
    taken = await link_merchant(shop.id, actor=member_actor(first.id), uow=FakeUnitOfWork(db), now=NOW)
    draws = iter([taken.member_ref] * 5 + [member_links.new_member_ref()])
    monkeypatch.setattr(member_links, "new_member_ref", lambda: next(draws))

    with pytest.raises(RuntimeError, match=r"^could not draw an unused member reference$"):
        await link_merchant(shop.id, actor=member_actor(second.id), uow=FakeUnitOfWork(db), now=NOW)

    assert len(db.tables.member_links) == 1


async def test_links_are_made_and_withdrawn_by_the_member_its_token_names() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    nobody = Actor(Role.MEMBER, "member")
    admin = Actor(Role.ADMIN, "admin")

    refusals = [
        await raised(link_merchant(shop.id, actor=nobody, uow=FakeUnitOfWork(db), now=NOW)),
        await raised(unlink_merchant(shop.id, actor=nobody, uow=FakeUnitOfWork(db), now=NOW)),
        await raised(unlink_merchant(shop.id, actor=admin, uow=FakeUnitOfWork(db), now=NOW)),
        await raised(
            unlink_merchant(shop.id, actor=member_actor(member.id), uow=FakeUnitOfWork(db), now=NOW)
        ),
        await raised(link_merchant(404, actor=member_actor(member.id), uow=FakeUnitOfWork(db), now=NOW)),
        await raised(unlink_merchant(shop.id, actor=member_actor(404), uow=FakeUnitOfWork(db), now=NOW)),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.FORBIDDEN, "the token names no member", None),
        (ErrorCode.FORBIDDEN, "the token names no member", None),
        (ErrorCode.FORBIDDEN, "this operation needs the role member", None),
        (ErrorCode.NOT_FOUND, "the member has no link to this merchant", ("merchantId",)),
        (ErrorCode.NOT_FOUND, "no such merchant", ("merchantId",)),
        (ErrorCode.NOT_FOUND, "no such member", ("memberId",)),
    ]


async def test_a_locked_member_may_still_withdraw_its_links() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    shop = await given_merchant(db)
    await link_merchant(shop.id, actor=member_actor(member.id), uow=FakeUnitOfWork(db), now=NOW)
    db.tables.members[member.id] = replace(db.tables.members[member.id], status=MemberStatus.LOCKED)
    uow = FakeUnitOfWork(db)

    assert await unlink_merchant(shop.id, actor=member_actor(member.id), uow=uow, now=NOW) is True
    assert uow.commits == 1
    [row] = db.tables.member_links.values()
    assert row.unlinked_at == NOW
