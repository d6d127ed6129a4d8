"""Admin management: enrolment, merchants, partner brands, rewards, member lock. Every one audited."""

from __future__ import annotations

import secrets
from dataclasses import asdict, replace
from datetime import datetime

from domain import validation
from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import Clock
from domain.commands import ChangeMemberStatus, CreateMerchant, CreatePartnerBrand, CreateReward, EnrollMember
from domain.errors import AlreadyExists, NotFound, Validation
from domain.members import Contact, Member, MemberStatus, Profile, masked_contact
from domain.merchants import Merchant, PartnerBrand
from domain.money import parse_rate
from domain.notifications import is_time_zone
from domain.ports import UnitOfWork
from domain.rewards import LimitPeriod, Reward
from domain.services.bonuses import give_sign_up_bonuses
from domain.services.common import existing_member, require_role

# Crockford-style alphabet: no 0/O or 1/I/L to misread when a friend types a referral code.
_REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_referral_code() -> str:
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))


def audit_event(
    actor: Actor, action: str, target: str, target_id: int, before: object, after: object, at: datetime
) -> AuditEvent:
    def plain(value: object) -> dict[str, object] | None:
        if isinstance(value, Member):  # the audit log never holds a plain phone or email
            value = replace(value, contact=masked_contact(value.contact))
        return None if value is None else {k: _jsonable(v) for k, v in asdict(value).items()}  # type: ignore[call-overload]  # audited values are dataclasses

    return AuditEvent(
        actor.subject, action, target, target_id, plain(before), plain(after), actor.request_id, at
    )


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_jsonable(v) for v in sorted(value)]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def clean_profile(profile: Profile, now: datetime) -> Profile:
    if profile.birth_year is not None and not 1900 <= profile.birth_year <= now.year:
        raise Validation(f"must be between 1900 and {now.year}", ("profile", "birthYear"))
    tags = tuple(
        sorted({validation.text(t, ("profile", "tags"), max_length=40).lower() for t in profile.tags})
    )
    if len(tags) > 20:
        raise Validation("at most 20 tags", ("profile", "tags"))
    time_zone = validation.optional_text(profile.time_zone, ("profile", "timeZone"), max_length=64)
    if time_zone is not None and not is_time_zone(time_zone):
        raise Validation(f"unknown time zone {time_zone!r} (an IANA name)", ("profile", "timeZone"))
    return replace(
        profile,
        region=validation.optional_text(profile.region, ("profile", "region"), max_length=60),
        tags=tags,
        time_zone=time_zone,
    )


def clean_contact(contact: Contact) -> Contact:
    phone = validation.optional_text(contact.phone, ("contact", "phone"), max_length=32)
    if phone is not None and not all(ch.isdigit() or ch in "+- " for ch in phone):
        raise Validation("a phone number holds digits, spaces, + and -", ("contact", "phone"))
    email = validation.optional_text(contact.email, ("contact", "email"), max_length=254)
    if email is not None and ("@" not in email or " " in email):
        raise Validation("not an email address", ("contact", "email"))
    return Contact(phone=phone, email=email)


async def enroll_member(cmd: EnrollMember, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    require_role(actor, Role.ADMIN)
    now = clock.now()
    external_ref = validation.text(cmd.external_ref, ("externalRef",), max_length=64)
    profile = clean_profile(cmd.profile, now)
    contact = clean_contact(cmd.contact)
    async with uow:
        if await uow.members.get_by_external_ref(external_ref) is not None:
            raise AlreadyExists("a member with this externalRef is already enrolled", ("externalRef",))
        referred_by = None
        if referral_code := validation.optional_text(cmd.referral_code, ("referralCode",), max_length=16):
            referrer = await uow.members.get_by_referral_code(referral_code.upper())
            if referrer is None:
                raise NotFound("no member has this referral code", ("referralCode",))
            referred_by = referrer.id
        member = await uow.members.add(
            external_ref=external_ref,
            profile=profile,
            contact=contact,
            referral_code=new_referral_code(),
            referred_by=referred_by,
            at=now,
        )
        await give_sign_up_bonuses(uow, member, await uow.programme.get(), now)
        await uow.audit.record(audit_event(actor, "enrollMember", "Member", member.id, None, member, now))
        await uow.commit()
    return member


async def _change_status(
    cmd: ChangeMemberStatus, to: MemberStatus, action: str, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Member:
    require_role(actor, Role.ADMIN)
    reason = validation.text(cmd.reason, ("reason",), max_length=500)
    now = clock.now()
    async with uow:
        member = await existing_member(uow, cmd.member_id)
        if member.status in (MemberStatus.CLOSED, MemberStatus.ERASED):
            raise Validation(f"a {member.status.value.lower()} member cannot change status", ("memberId",))
        if member.status is to:
            return member  # already there: nothing to change, nothing to audit
        await uow.members.set_status(member.id, to, reason)
        changed = replace(member, status=to, status_reason=reason)
        await uow.audit.record(audit_event(actor, action, "Member", member.id, member, changed, now))
        await uow.commit()
    return changed


async def lock_member(cmd: ChangeMemberStatus, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    return await _change_status(cmd, MemberStatus.LOCKED, "lockMember", actor=actor, uow=uow, clock=clock)


async def unlock_member(cmd: ChangeMemberStatus, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    return await _change_status(cmd, MemberStatus.ACTIVE, "unlockMember", actor=actor, uow=uow, clock=clock)


async def create_partner_brand(
    cmd: CreatePartnerBrand, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> PartnerBrand:
    require_role(actor, Role.ADMIN)
    name = validation.text(cmd.name, ("name",), max_length=120)
    now = clock.now()
    async with uow:
        partner = await uow.partners.add(name=name, kind=cmd.kind, at=now)
        await uow.audit.record(
            audit_event(actor, "createPartnerBrand", "PartnerBrand", partner.id, None, partner, now)
        )
        await uow.commit()
    return partner


async def create_merchant(cmd: CreateMerchant, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Merchant:
    require_role(actor, Role.ADMIN)
    name = validation.text(cmd.name, ("name",), max_length=120)
    rate = (
        None if cmd.earn_rate_override is None else parse_rate(cmd.earn_rate_override, ("earnRateOverride",))
    )
    if cmd.pending_days is not None and not 0 <= cmd.pending_days <= 365:
        raise Validation("must be between 0 and 365", ("pendingDays",))
    now = clock.now()
    async with uow:
        if cmd.partner_id is not None and await uow.partners.get(cmd.partner_id) is None:
            raise NotFound("no such partner brand", ("partnerId",))
        merchant = await uow.merchants.add(
            name=name,
            category=cmd.category,
            channel=cmd.channel,
            partner_id=cmd.partner_id,
            earn_rate_override=rate,
            pending_days=cmd.pending_days,
            at=now,
        )
        await uow.audit.record(
            audit_event(actor, "createMerchant", "Merchant", merchant.id, None, merchant, now)
        )
        await uow.commit()
    return merchant


async def create_reward(cmd: CreateReward, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Reward:
    require_role(actor, Role.ADMIN)
    name = validation.text(cmd.name, ("name",), max_length=120)
    validation.positive_int(cmd.cost_points, ("costPoints",))
    if cmd.stock is not None:
        validation.non_negative_int(cmd.stock, ("stock",))
    limit_period = cmd.limit_period
    if cmd.per_member_limit is not None:
        validation.positive_int(cmd.per_member_limit, ("perMemberLimit",))
        limit_period = limit_period or LimitPeriod.EVER
    elif limit_period is not None:
        raise Validation("a limit period needs a perMemberLimit", ("limitPeriod",))
    tier_ids = None if cmd.tier_ids is None else frozenset(cmd.tier_ids)
    if tier_ids is not None and not tier_ids:
        raise Validation("name at least one tier, or omit tierIds for every tier", ("tierIds",))
    now = clock.now()
    async with uow:
        if tier_ids and await uow.rewards.unknown_tiers(tier_ids):
            raise NotFound("no such tier", ("tierIds",))
        reward = await uow.rewards.add(
            name=name,
            cost_points=cmd.cost_points,
            stock=cmd.stock,
            active=cmd.active,
            at=now,
            per_member_limit=cmd.per_member_limit,
            limit_period=limit_period,
            tier_ids=tier_ids,
        )
        await uow.audit.record(audit_event(actor, "createReward", "Reward", reward.id, None, reward, now))
        await uow.commit()
    return reward
