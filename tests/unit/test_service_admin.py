"""The admin use cases over the fakes: enrolment's cleaning of profile and contact, the catalogue
(merchants, partner brands, rewards) with its refusals, and the audit row each one writes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.commands import ChangeMemberStatus, CreateMerchant, CreatePartnerBrand, CreateReward, EnrollMember
from domain.errors import ErrorCode
from domain.members import Contact, IncomeBand, MemberStatus, Profile
from domain.merchants import Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.rewards import LimitPeriod, Reward
from domain.services.admin import (
    audit_event,
    create_merchant,
    create_partner_brand,
    create_reward,
    enroll_member,
    lock_member,
    new_referral_code,
)
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import ADMIN, given_member, raised, snapshot

NOW = datetime(2024, 2, 29, 10, 30, tzinfo=UTC)


def enrol(db: FakeDatabase, cmd: EnrollMember, clock: FixedClock) -> object:
    return enroll_member(cmd, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)


# --- enrolment: profile and contact ---------------------------------------------------------------


async def test_enrolment_keeps_a_cleaned_profile_and_contact_and_audits_the_contact_masked(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await enroll_member(
        EnrollMember(
            external_ref="CRM-42",
            profile=Profile(
                birth_year=1900,
                region="  Shanghai ",
                income_band=IncomeBand.HIGH,
                tags=("Tea", " tea", "Cake"),
            ),
            contact=Contact(phone=" +86 138-1234-5678 ", email=" li@example.com "),
        ),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    assert member.profile == Profile(1900, "Shanghai", IncomeBand.HIGH, ("cake", "tea"))
    assert member.contact == Contact(phone="+86 138-1234-5678", email="li@example.com")
    assert db.tables.members[member.id].profile == member.profile
    assert all(ch in "23456789ABCDEFGHJKMNPQRSTUVWXYZ" for ch in member.referral_code)
    [event] = db.tables.audit
    assert event == AuditEvent(
        "admin-ada", "enrollMember", "Member", member.id, None, event.after, "req-1", NOW
    )
    assert event.after is not None
    assert event.after["contact"] == {"phone": "+86**********5678", "email": "l***@example.com"}
    assert event.after["profile"] == {
        "birth_year": 1900,
        "region": "Shanghai",
        "income_band": "HIGH",
        "tags": ["cake", "tea"],
        "time_zone": None,
    }
    assert event.after["status"] == "ACTIVE"
    assert event.after["enrolled_at"] == str(NOW)
    assert event.after["referred_by"] is None


async def test_a_birth_year_of_this_year_is_accepted_and_next_year_or_1899_is_not(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await enroll_member(
        EnrollMember("CRM-1", profile=Profile(birth_year=2024)),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert member.profile.birth_year == 2024
    before = snapshot(db)

    for year in (1899, 2025):
        error = await raised(
            enroll_member(
                EnrollMember("CRM-2", profile=Profile(birth_year=year)),
                actor=ADMIN,
                uow=FakeUnitOfWork(db),
                clock=clock,
            )
        )
        assert (error.code, error.message, error.field) == (
            ErrorCode.VALIDATION,
            "must be between 1900 and 2024",
            ("profile", "birthYear"),
        )
    assert db.tables == before


async def test_twenty_tags_are_accepted_and_twenty_one_are_not(db: FakeDatabase, clock: FixedClock) -> None:
    twenty = tuple(f"t{i:02}" for i in range(20))
    member = await enroll_member(
        EnrollMember("CRM-1", profile=Profile(tags=(*twenty, "T00"))),  # a duplicate counts once
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    assert member.profile.tags == twenty
    before = snapshot(db)

    error = await raised(
        enroll_member(
            EnrollMember("CRM-2", profile=Profile(tags=(*twenty, "t20"))),
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "at most 20 tags",
        ("profile", "tags"),
    )
    assert db.tables == before


@pytest.mark.parametrize(
    ("profile", "message", "field"),
    [
        (Profile(tags=("x" * 41,)), "must be at most 40 characters", ("profile", "tags")),
        (Profile(tags=(" ",)), "must not be blank", ("profile", "tags")),
        (Profile(region="r" * 61), "must be at most 60 characters", ("profile", "region")),
    ],
    ids=["long-tag", "blank-tag", "long-region"],
)
async def test_a_bad_tag_or_region_is_validation_with_its_field(
    db: FakeDatabase,
    uow: FakeUnitOfWork,
    clock: FixedClock,
    profile: Profile,
    message: str,
    field: tuple[str, ...],
) -> None:
    error = await raised(
        enroll_member(EnrollMember("CRM-1", profile=profile), actor=ADMIN, uow=uow, clock=clock)
    )

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables.members == {}


async def test_the_longest_tag_and_region_are_accepted(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await enroll_member(
        EnrollMember("CRM-1", profile=Profile(region="r" * 60, tags=("x" * 40,))),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )
    assert member.profile == Profile(region="r" * 60, tags=("x" * 40,))


@pytest.mark.parametrize(
    ("contact", "message", "field"),
    [
        (Contact(phone="138 1234 abc"), "a phone number holds digits, spaces, + and -", ("contact", "phone")),
        (Contact(phone="138X5678"), "a phone number holds digits, spaces, + and -", ("contact", "phone")),
        (Contact(phone="1" * 33), "must be at most 32 characters", ("contact", "phone")),
        (Contact(email="li.example.com"), "not an email address", ("contact", "email")),
        (Contact(email="li @example.com"), "not an email address", ("contact", "email")),
        (Contact(email="l" * 243 + "@example.com"), "must be at most 254 characters", ("contact", "email")),
    ],
    ids=["phone-letters", "phone-x", "phone-long", "email-no-at", "email-space", "email-long"],
)
async def test_a_bad_phone_or_email_is_validation_with_its_field(
    db: FakeDatabase,
    uow: FakeUnitOfWork,
    clock: FixedClock,
    contact: Contact,
    message: str,
    field: tuple[str, ...],
) -> None:
    error = await raised(
        enroll_member(EnrollMember("CRM-1", contact=contact), actor=ADMIN, uow=uow, clock=clock)
    )

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, field)
    assert db.tables.members == {}


async def test_the_longest_phone_and_email_are_accepted(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    contact = Contact(phone="+" + "1" * 31, email="l" * 242 + "@example.com")
    member = await enroll_member(EnrollMember("CRM-1", contact=contact), actor=ADMIN, uow=uow, clock=clock)
    assert member.contact == contact


async def test_an_external_ref_is_at_most_64_characters(db: FakeDatabase, clock: FixedClock) -> None:
    member = await enroll_member(EnrollMember("r" * 64), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    assert member.external_ref == "r" * 64

    error = await raised(
        enroll_member(EnrollMember("s" * 65), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)
    )
    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "must be at most 64 characters",
        ("externalRef",),
    )


async def test_a_referral_code_is_at_most_16_characters_and_a_blank_one_is_none(
    db: FakeDatabase, clock: FixedClock
) -> None:
    error = await raised(
        enroll_member(
            EnrollMember("CRM-1", referral_code="R" * 17), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert (error.message, error.field) == ("must be at most 16 characters", ("referralCode",))
    missing = await raised(
        enroll_member(
            EnrollMember("CRM-1", referral_code="R" * 16), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert (missing.code, missing.message, missing.field) == (
        ErrorCode.NOT_FOUND,
        "no member has this referral code",
        ("referralCode",),
    )

    member = await enroll_member(
        EnrollMember("CRM-1", referral_code="  "), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    assert member.referred_by is None


async def test_enrolling_a_known_external_ref_says_so(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    await given_member(db, "CRM-1")

    error = await raised(enroll_member(EnrollMember("CRM-1"), actor=ADMIN, uow=uow, clock=clock))

    assert error.message == "a member with this externalRef is already enrolled"


async def test_a_known_external_ref_is_refused_before_its_referral_code_is_looked_up(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    await given_member(db, "CRM-1")

    error = await raised(
        enroll_member(EnrollMember("CRM-1", referral_code="NOSUCH22"), actor=ADMIN, uow=uow, clock=clock)
    )

    assert (error.code, error.field) == (ErrorCode.ALREADY_EXISTS, ("externalRef",))


async def test_a_referred_member_is_audited_with_its_referrer(db: FakeDatabase, clock: FixedClock) -> None:
    referrer = await given_member(db, "CRM-1")
    uow = FakeUnitOfWork(db)

    member = await enroll_member(
        EnrollMember("CRM-2", referral_code=referrer.referral_code), actor=ADMIN, uow=uow, clock=clock
    )

    assert member.referred_by == referrer.id
    [event] = db.tables.audit
    assert event.after is not None
    assert event.after["referred_by"] == referrer.id
    assert uow.commits == 1


def test_a_referral_code_is_eight_characters_of_the_unambiguous_alphabet() -> None:
    codes = {new_referral_code() for _ in range(50)}
    assert len(codes) > 1
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_an_audited_value_is_made_plain_all_the_way_down() -> None:
    reward = Reward(3, "Mug", 10, None, True, NOW, 2, LimitPeriod.WEEK, frozenset({5, 4}))
    plain = audit_event(ADMIN, "createReward", "Reward", 3, reward, reward, NOW)
    assert plain.before == plain.after
    assert plain.after == {
        "id": 3,
        "name": "Mug",
        "cost_points": 10,
        "stock": None,
        "active": True,
        "created_at": str(NOW),
        "per_member_limit": 2,
        "limit_period": "WEEK",
        "tier_ids": [4, 5],
    }
    assert (plain.actor, plain.action, plain.target_type, plain.target_id, plain.request_id, plain.at) == (
        "admin-ada",
        "createReward",
        "Reward",
        3,
        "req-1",
        NOW,
    )


# --- member status --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [MemberStatus.CLOSED, MemberStatus.ERASED])
async def test_a_closed_or_erased_member_keeps_its_status_and_the_message_says_which(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, status: MemberStatus
) -> None:
    member = await given_member(db, status=status)
    before = snapshot(db)

    error = await raised(lock_member(ChangeMemberStatus(member.id, "why"), actor=ADMIN, uow=uow, clock=clock))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        f"a {status.value.lower()} member cannot change status",
        ("memberId",),
    )
    assert db.tables == before


async def test_a_lock_reason_is_at_most_500_characters(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db)
    error = await raised(
        lock_member(
            ChangeMemberStatus(member.id, "r" * 501), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert (error.message, error.field) == ("must be at most 500 characters", ("reason",))

    locked = await lock_member(
        ChangeMemberStatus(member.id, "r" * 500), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    assert locked.status_reason == "r" * 500
    [event] = db.tables.audit
    assert (event.request_id, event.at) == ("req-1", NOW)


# --- partner brands -------------------------------------------------------------------------------


async def test_a_partner_brand_is_created_and_audited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    partner = await create_partner_brand(
        CreatePartnerBrand(" Sky Air ", PartnerKind.AIRLINE), actor=ADMIN, uow=uow, clock=clock
    )

    assert partner == PartnerBrand(partner.id, "Sky Air", PartnerKind.AIRLINE, NOW)
    assert db.tables.partners == {partner.id: partner}
    assert db.tables.audit == [
        AuditEvent(
            "admin-ada",
            "createPartnerBrand",
            "PartnerBrand",
            partner.id,
            None,
            {"id": partner.id, "name": "Sky Air", "kind": "AIRLINE", "created_at": str(NOW)},
            "req-1",
            NOW,
        )
    ]
    assert uow.commits == 1


async def test_a_partner_brand_name_is_required_and_at_most_120_characters(
    db: FakeDatabase, clock: FixedClock
) -> None:
    for name, message in (("  ", "must not be blank"), ("n" * 121, "must be at most 120 characters")):
        error = await raised(
            create_partner_brand(
                CreatePartnerBrand(name, PartnerKind.HOTEL), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
            )
        )
        assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, ("name",))
    partner = await create_partner_brand(
        CreatePartnerBrand("n" * 120, PartnerKind.HOTEL), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    assert partner.name == "n" * 120


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.PARTNER, Role.PROCESSOR])
async def test_only_an_admin_manages_the_catalogue(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, role: Role
) -> None:
    someone = Actor(role, "someone")
    refusals = [
        await raised(
            create_partner_brand(
                CreatePartnerBrand("P", PartnerKind.HOTEL), actor=someone, uow=uow, clock=clock
            )
        ),
        await raised(
            create_merchant(CreateMerchant("M", MerchantCategory.DINING), actor=someone, uow=uow, clock=clock)
        ),
        await raised(create_reward(CreateReward("R", 10), actor=someone, uow=uow, clock=clock)),
    ]

    assert [(e.code, e.message) for e in refusals] == [
        (ErrorCode.FORBIDDEN, "this operation needs the role admin")
    ] * 3
    assert db.tables == FakeDatabase().tables


# --- merchants ------------------------------------------------------------------------------------


async def test_a_merchant_is_created_with_its_partner_rate_and_return_window_and_audited(
    db: FakeDatabase, clock: FixedClock
) -> None:
    partner = await create_partner_brand(
        CreatePartnerBrand("Sky Air", PartnerKind.AIRLINE), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    uow = FakeUnitOfWork(db)

    merchant = await create_merchant(
        CreateMerchant(
            " Sky Shop ",
            MerchantCategory.TRAVEL,
            MerchantChannel.ONLINE,
            partner_id=partner.id,
            earn_rate_override=Decimal("1.2500"),
            pending_days=365,
        ),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    assert merchant == Merchant(
        merchant.id,
        "Sky Shop",
        MerchantCategory.TRAVEL,
        MerchantChannel.ONLINE,
        partner.id,
        Decimal("1.2500"),
        NOW,
        365,
    )
    assert db.tables.merchants == {merchant.id: merchant}
    assert db.tables.audit[-1] == AuditEvent(
        "admin-ada",
        "createMerchant",
        "Merchant",
        merchant.id,
        None,
        {
            "id": merchant.id,
            "name": "Sky Shop",
            "category": "TRAVEL",
            "channel": "ONLINE",
            "partner_id": partner.id,
            "earn_rate_override": "1.2500",
            "created_at": str(NOW),
            "pending_days": 365,
        },
        "req-1",
        NOW,
    )
    assert uow.commits == 1


async def test_a_merchant_without_a_rate_or_window_takes_the_programmes(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    merchant = await create_merchant(
        CreateMerchant("Tea House", MerchantCategory.DINING, pending_days=0),
        actor=ADMIN,
        uow=uow,
        clock=clock,
    )

    assert (merchant.partner_id, merchant.earn_rate_override, merchant.pending_days) == (None, None, 0)
    assert merchant.channel is MerchantChannel.BOTH


@pytest.mark.parametrize(
    ("cmd", "code", "message", "field"),
    [
        (CreateMerchant("  ", MerchantCategory.DINING), ErrorCode.VALIDATION, "must not be blank", ("name",)),
        (
            CreateMerchant("m" * 121, MerchantCategory.DINING),
            ErrorCode.VALIDATION,
            "must be at most 120 characters",
            ("name",),
        ),
        (
            CreateMerchant("M", MerchantCategory.DINING, earn_rate_override=Decimal(-1)),
            ErrorCode.VALIDATION,
            "rate must be between 0 and 10000",
            ("earnRateOverride",),
        ),
        (
            CreateMerchant("M", MerchantCategory.DINING, pending_days=-1),
            ErrorCode.VALIDATION,
            "must be between 0 and 365",
            ("pendingDays",),
        ),
        (
            CreateMerchant("M", MerchantCategory.DINING, pending_days=366),
            ErrorCode.VALIDATION,
            "must be between 0 and 365",
            ("pendingDays",),
        ),
        (
            CreateMerchant("M", MerchantCategory.DINING, partner_id=404),
            ErrorCode.NOT_FOUND,
            "no such partner brand",
            ("partnerId",),
        ),
    ],
    ids=["blank", "long", "negative-rate", "window-below", "window-above", "no-partner"],
)
async def test_a_bad_merchant_is_refused_with_its_field_and_nothing_is_made(
    db: FakeDatabase,
    uow: FakeUnitOfWork,
    clock: FixedClock,
    cmd: CreateMerchant,
    code: ErrorCode,
    message: str,
    field: tuple[str, ...],
) -> None:
    error = await raised(create_merchant(cmd, actor=ADMIN, uow=uow, clock=clock))

    assert (error.code, error.message, error.field) == (code, message, field)
    assert db.tables == FakeDatabase().tables
    assert uow.commits == 0


# --- rewards --------------------------------------------------------------------------------------


async def test_a_reward_is_created_and_audited(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    reward = await create_reward(
        CreateReward(" Mug ", 300, stock=0, active=False), actor=ADMIN, uow=uow, clock=clock
    )

    assert reward == Reward(reward.id, "Mug", 300, 0, False, NOW, None, None, None)
    assert db.tables.rewards == {reward.id: reward}
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.before, event.at) == (
        "admin-ada",
        "createReward",
        "Reward",
        reward.id,
        None,
        NOW,
    )
    assert event.after is not None
    assert (event.after["name"], event.after["stock"]) == ("Mug", 0)
    assert uow.commits == 1


async def test_a_per_member_limit_without_a_period_is_a_limit_for_ever(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    reward = await create_reward(
        CreateReward("Mug", 300, per_member_limit=1), actor=ADMIN, uow=uow, clock=clock
    )

    assert (reward.per_member_limit, reward.limit_period) == (1, LimitPeriod.EVER)


async def test_a_per_member_limit_keeps_its_period_and_tiers(db: FakeDatabase, clock: FixedClock) -> None:
    seed = FakeUnitOfWork(db)
    async with seed:
        gold = await seed.tiers.add(Tier(0, "GOLD", "Gold", 2, min_points=1000), NOW)
        await seed.commit()

    reward = await create_reward(
        CreateReward(
            "Mug", 300, per_member_limit=2, limit_period=LimitPeriod.MONTH, tier_ids=(gold.id, gold.id)
        ),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    assert (reward.per_member_limit, reward.limit_period, reward.tier_ids) == (
        2,
        LimitPeriod.MONTH,
        frozenset({gold.id}),
    )


@pytest.mark.parametrize(
    ("cmd", "code", "message", "field"),
    [
        (CreateReward("  ", 10), ErrorCode.VALIDATION, "must not be blank", ("name",)),
        (CreateReward("r" * 121, 10), ErrorCode.VALIDATION, "must be at most 120 characters", ("name",)),
        (CreateReward("Mug", 0), ErrorCode.VALIDATION, "must be greater than zero", ("costPoints",)),
        (CreateReward("Mug", 10, stock=-1), ErrorCode.VALIDATION, "must not be negative", ("stock",)),
        (
            CreateReward("Mug", 10, per_member_limit=0),
            ErrorCode.VALIDATION,
            "must be greater than zero",
            ("perMemberLimit",),
        ),
        (
            CreateReward("Mug", 10, limit_period=LimitPeriod.DAY),
            ErrorCode.VALIDATION,
            "a limit period needs a perMemberLimit",
            ("limitPeriod",),
        ),
        (
            CreateReward("Mug", 10, tier_ids=()),
            ErrorCode.VALIDATION,
            "name at least one tier, or omit tierIds for every tier",
            ("tierIds",),
        ),
        (CreateReward("Mug", 10, tier_ids=(404,)), ErrorCode.NOT_FOUND, "no such tier", ("tierIds",)),
    ],
    ids=["blank", "long", "free", "negative-stock", "zero-limit", "period-alone", "no-tiers", "unknown-tier"],
)
async def test_a_bad_reward_is_refused_with_its_field_and_nothing_is_made(
    db: FakeDatabase,
    uow: FakeUnitOfWork,
    clock: FixedClock,
    cmd: CreateReward,
    code: ErrorCode,
    message: str,
    field: tuple[str, ...],
) -> None:
    error = await raised(create_reward(cmd, actor=ADMIN, uow=uow, clock=clock))

    assert (error.code, error.message, error.field) == (code, message, field)
    assert db.tables == FakeDatabase().tables
    assert uow.commits == 0
