"""Offers: admins create, pause, resume and archive them; merchants and members try a basket."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.mutations.purchases import MoneyInput
from api.permissions import ADMIN, AUTHENTICATED, MEMBER
from api.types.activity import Money
from api.types.enums import Channel, IncomeBand, MerchantCategory
from api.types.ids import decode_id, encode_id
from api.types.offers import (
    CapPeriod,
    Coupon,
    FirstPurchase,
    FunderKind,
    Mechanic,
    Offer,
    OfferAward,
    OfferSkip,
    Trigger,
)
from domain import commands
from domain import offers as do
from domain.money import Money as DomainMoney
from domain.security import Secret
from domain.services.bonuses import open_red_packet
from domain.services.offers import (
    change_offer_status,
    claim_coupon,
    create_offer,
    generate_coupons,
    update_offer,
)
from domain.services.purchases import qualify_purchase


@strawberry.input
class FundingShareInput:
    kind: FunderKind  # type: ignore[valid-type]
    funder_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The merchant or partner brand; omit for the programme."
    )
    percent: int


@strawberry.input
class OfferSegmentInput:
    regions: list[str] = strawberry.field(default_factory=list)
    income_bands: list[IncomeBand] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    any_tags: list[str] = strawberry.field(default_factory=list)
    born_from: int | None = None
    born_to: int | None = None


@strawberry.input(description="Omitted limits do not apply.")
class OfferLimitsInput:
    budget_points: int | None = None
    budget_money: MoneyInput | None = None
    max_uses: int | None = None
    per_member: int | None = None
    per_member_period: CapPeriod = do.CapPeriod.OFFER  # type: ignore[valid-type]


@strawberry.input
class CreateOfferInput:
    name: str
    mechanic: Mechanic  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime
    funding: list[FundingShareInput]
    time_zone: str = "Asia/Shanghai"
    days_of_week: list[int] = strawberry.field(default_factory=list)
    from_hour: int | None = None
    to_hour: int | None = None
    points: int = strawberry.field(default=0, description="BONUS_POINTS: the points given.")
    multiplier: Decimal = strawberry.field(default=Decimal(1), description="POINTS_MULTIPLIER: base x this.")
    amount: MoneyInput | None = strawberry.field(
        default=None, description="INSTANT_DISCOUNT, SPEND_AND_SAVE: off."
    )
    threshold: MoneyInput | None = strawberry.field(
        default=None, description="SPEND_AND_SAVE: spend at least."
    )
    percent: Decimal = strawberry.field(default=Decimal(0), description="PERCENT_DISCOUNT and the cashbacks.")
    cap: MoneyInput | None = strawberry.field(default=None, description="PERCENT_DISCOUNT: at most this off.")
    merchant_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    categories: list[MerchantCategory] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    partner_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    channels: list[Channel] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    minimum_spend: MoneyInput | None = None
    new_members_within_days: int | None = None
    first_purchase: FirstPurchase | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only a first purchase (ever, at the merchant, at the partner); once per member.",
    )
    segment: OfferSegmentInput | None = None
    limits: OfferLimitsInput | None = None
    exclusive_group: str | None = strawberry.field(
        default=None, description="Offers sharing a group compete."
    )
    priority: int = 0
    requires_coupon: bool = strawberry.field(
        default=False, description="Applies only with one of its coupons."
    )
    trigger: Trigger = strawberry.field(  # type: ignore[valid-type]
        default=do.Trigger.PURCHASE, description="SIGN_UP: bonus points given once, at enrolment."
    )
    referrer_points: int = strawberry.field(
        default=0, description="Also given to the member who referred the buyer, when it applies."
    )
    referred_only: bool = strawberry.field(default=False, description="Only members who were referred.")
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None,
        description="Only members of these tiers (a member without a tier is in the entry tier); "
        "omitted, null or empty: every tier.",
    )
    dormant_only: bool = strawberry.field(
        default=False,
        description="A win-back offer: only members dormant when the purchase begins (it wakes them).",
    )


@strawberry.input
class UpdateOfferInput:
    offer_id: relay.GlobalID
    offer: CreateOfferInput = strawberry.field(description="The whole new definition: a new version.")


@strawberry.input(description="Either count single-use codes, or one shared code with a use limit.")
class GenerateCouponsInput:
    offer_id: relay.GlobalID
    count: int | None = None
    shared_code: str | None = None
    max_uses: int | None = None


@strawberry.type
class GenerateCouponsPayload:
    coupons: list[Coupon]
    errors: list[UserError]


@strawberry.input
class ClaimCouponInput:
    code: str


@strawberry.type
class ClaimCouponPayload:
    coupon: Coupon | None
    errors: list[UserError]


@strawberry.input
class OpenRedPacketInput:
    code: str
    idempotency_key: str


@strawberry.type
class OpenRedPacketPayload:
    points: int | None = strawberry.field(description="The points the red packet gave.")
    errors: list[UserError]


@strawberry.type(description="An offer as it now stands, or why nothing changed.")
class OfferPayload:
    """The shape every offer mutation answers with, each under its own type name."""

    offer: Offer | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The new offer, or why nothing changed.")
class CreateOfferPayload(OfferPayload):
    pass


@strawberry.type(description="The offer's new version, or why nothing changed.")
class UpdateOfferPayload(OfferPayload):
    pass


@strawberry.type(description="The paused offer, or why nothing changed.")
class PauseOfferPayload(OfferPayload):
    pass


@strawberry.type(description="The resumed offer, or why nothing changed.")
class ResumeOfferPayload(OfferPayload):
    pass


@strawberry.type(description="The archived offer, or why nothing changed.")
class ArchiveOfferPayload(OfferPayload):
    pass


@strawberry.input(description="The offer to act on.")
class OfferIdInput:
    """The shape of pauseOffer's, resumeOffer's and archiveOffer's inputs, each under its own name."""

    offer_id: relay.GlobalID = strawberry.field(description="The offer's global id.")


@strawberry.input(description="The offer to pause.")
class PauseOfferInput(OfferIdInput):
    pass


@strawberry.input(description="The paused offer to resume.")
class ResumeOfferInput(OfferIdInput):
    pass


@strawberry.input(description="The offer to archive.")
class ArchiveOfferInput(OfferIdInput):
    pass


P = TypeVar("P", bound=OfferPayload)


@strawberry.input
class QualifyPurchaseInput:
    amount: MoneyInput
    member_id: relay.GlobalID | None = strawberry.field(default=None, description="Required for a merchant.")
    merchant_id: relay.GlobalID | None = strawberry.field(default=None, description="Required for a member.")
    channel: Channel | None = None  # type: ignore[valid-type]


@strawberry.type(description="What postPurchase would give this basket now; nothing is written.")
class Qualification:
    amount: Money
    paid: Money
    base_points: int
    total_points: int
    applied_offers: list[OfferAward]
    skipped: list[OfferSkip]


@strawberry.type
class QualifyPurchasePayload:
    qualification: Qualification | None
    errors: list[UserError]


def _money(value: MoneyInput | None) -> DomainMoney | None:
    return None if value is None else DomainMoney(value.amount_minor, value.currency)


def _offer_from(input: CreateOfferInput) -> do.Offer:
    segment = input.segment or OfferSegmentInput()
    limits = input.limits or OfferLimitsInput()
    funding = []
    for share in input.funding:
        funder = None
        if share.funder_id is not None:
            type_name = "Merchant" if share.kind is do.FunderKind.MERCHANT else "PartnerBrand"
            funder = decode_id(share.funder_id, type_name, "funderId")
        funding.append(do.FundingShare(share.kind, funder, share.percent))
    return do.Offer(
        id=0,
        version=0,
        name=input.name,
        mechanic=input.mechanic,
        window=do.Window(
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            days_of_week=frozenset(input.days_of_week),
            from_hour=input.from_hour,
            to_hour=input.to_hour,
            time_zone=input.time_zone,
        ),
        funding=tuple(funding),
        eligibility=do.Eligibility(
            merchant_ids=frozenset(decode_id(i, "Merchant", "merchantIds") for i in input.merchant_ids),
            categories=frozenset(input.categories),
            partner_ids=frozenset(decode_id(i, "PartnerBrand", "partnerIds") for i in input.partner_ids),
            channels=frozenset(input.channels),
            minimum_spend=_money(input.minimum_spend),
            new_members_within_days=input.new_members_within_days,
            first_purchase=input.first_purchase,
            referred_only=input.referred_only,
            tier_ids=None
            if input.tier_ids is None
            else frozenset(decode_id(i, "Tier", "tierIds") for i in input.tier_ids),
            dormant_only=input.dormant_only,
            segment=do.Segment(
                regions=frozenset(segment.regions),
                income_bands=frozenset(segment.income_bands),
                any_tags=frozenset(segment.any_tags),
                born_from=segment.born_from,
                born_to=segment.born_to,
            ),
        ),
        limits=do.Limits(
            budget_points=limits.budget_points,
            budget_money=_money(limits.budget_money),
            max_uses=limits.max_uses,
            per_member=limits.per_member,
            per_member_period=limits.per_member_period,
        ),
        points=input.points,
        multiplier=input.multiplier,
        amount=_money(input.amount),
        threshold=_money(input.threshold),
        percent=input.percent,
        cap=_money(input.cap),
        exclusive_group=input.exclusive_group,
        priority=input.priority,
        requires_coupon=input.requires_coupon,
        trigger=input.trigger,
        referrer_points=input.referrer_points,
    )


async def _set_status(info: Info, input: OfferIdInput, status: do.OfferStatus, payload: type[P]) -> P:
    result, errors = await run_use_case(
        info,
        lambda actor, uow, clock: change_offer_status(
            decode_id(input.offer_id, "Offer", "offerId"), status, actor=actor, uow=uow, clock=clock
        ),
    )
    return payload(offer=Offer.from_domain(result) if result else None, errors=errors)


QUALIFY_PURCHASE = "A dry run of postPurchase's offers for a basket (a merchant, or a member for its own)."


async def qualify(info: Info, input: QualifyPurchaseInput) -> QualifyPurchasePayload:
    """Query.qualifyPurchase and the deprecated mutation: it writes nothing, so it reads through the
    read pool, never queueing for the writer."""

    def command() -> commands.QualifyPurchase:
        return commands.QualifyPurchase(
            amount=DomainMoney(input.amount.amount_minor, input.amount.currency),
            member_id=None if input.member_id is None else decode_id(input.member_id, "Member", "memberId"),
            merchant_id=None
            if input.merchant_id is None
            else decode_id(input.merchant_id, "Merchant", "merchantId"),
            channel=input.channel,
        )

    result, errors = await run_use_case(
        info,
        lambda actor, uow, clock: qualify_purchase(command(), actor=actor, uow=uow, clock=clock),
        reads_only=True,
    )
    if result is None:
        return QualifyPurchasePayload(qualification=None, errors=errors)
    currency = result.amount.currency
    return QualifyPurchasePayload(
        qualification=Qualification(
            amount=Money(amount_minor=result.amount.amount_minor, currency=currency),
            paid=Money(amount_minor=result.paid.amount_minor, currency=currency),
            base_points=result.base_points,
            total_points=result.total_points,
            applied_offers=[OfferAward.from_domain(a, currency) for a in result.awards],
            skipped=[
                OfferSkip(offer_id=encode_id("Offer", s.offer_id), reason=s.reason) for s in result.skipped
            ],
        ),
        errors=[],
    )


@strawberry.type
class OfferMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Create an offer; it is live inside its window."
    )
    async def create_offer(self, info: Info, input: CreateOfferInput) -> CreateOfferPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: create_offer(_offer_from(input), actor=actor, uow=uow, clock=clock),
        )
        return CreateOfferPayload(offer=Offer.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Replace an offer's definition with a new version; purchases keep what they got.",
    )
    async def update_offer(self, info: Info, input: UpdateOfferInput) -> UpdateOfferPayload:
        def changed() -> do.Offer:
            offer_id = decode_id(input.offer_id, "Offer", "offerId")
            return replace(_offer_from(input.offer), id=offer_id)

        result, errors = await run_use_case(
            info, lambda actor, uow, clock: update_offer(changed(), actor=actor, uow=uow, clock=clock)
        )
        return UpdateOfferPayload(offer=Offer.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(permission_classes=ADMIN, description="Codes for a coupon-only offer.")
    async def generate_coupons(self, info: Info, input: GenerateCouponsInput) -> GenerateCouponsPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: generate_coupons(
                decode_id(input.offer_id, "Offer", "offerId"),
                count=input.count,
                shared_code=input.shared_code,
                max_uses=input.max_uses,
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return GenerateCouponsPayload(coupons=[Coupon.from_domain(c) for c in result or []], errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBER, description="Put a single-use coupon in the caller's wallet."
    )
    async def claim_coupon(self, info: Info, input: ClaimCouponInput) -> ClaimCouponPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: claim_coupon(input.code, actor=actor, uow=uow, clock=clock),
            guessing=(Secret.COUPON_CODE, "code"),
        )
        return ClaimCouponPayload(coupon=Coupon.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBER, description="Open a red packet with its code: its points, once."
    )
    async def open_red_packet(self, info: Info, input: OpenRedPacketInput) -> OpenRedPacketPayload:
        command = commands.OpenRedPacket(code=input.code, idempotency_key=input.idempotency_key)
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: open_red_packet(command, actor=actor, uow=uow, clock=clock),
            guessing=(Secret.RED_PACKET_CODE, "code"),
        )
        return OpenRedPacketPayload(points=result.points if result else None, errors=errors)

    @strawberry.mutation(permission_classes=ADMIN, description="Stop applying an offer until resumed.")
    async def pause_offer(self, info: Info, input: PauseOfferInput) -> PauseOfferPayload:
        return await _set_status(info, input, do.OfferStatus.PAUSED, PauseOfferPayload)

    @strawberry.mutation(permission_classes=ADMIN)
    async def resume_offer(self, info: Info, input: ResumeOfferInput) -> ResumeOfferPayload:
        return await _set_status(info, input, do.OfferStatus.ACTIVE, ResumeOfferPayload)

    @strawberry.mutation(permission_classes=ADMIN, description="End an offer for good.")
    async def archive_offer(self, info: Info, input: ArchiveOfferInput) -> ArchiveOfferPayload:
        return await _set_status(info, input, do.OfferStatus.ARCHIVED, ArchiveOfferPayload)

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description=QUALIFY_PURCHASE,
        deprecation_reason="Use Query.qualifyPurchase; it writes nothing.",
    )
    async def qualify_purchase(self, info: Info, input: QualifyPurchaseInput) -> QualifyPurchasePayload:
        return await qualify(info, input)


@strawberry.type
class OfferQueries:
    @strawberry.field(permission_classes=AUTHENTICATED, description=QUALIFY_PURCHASE)
    async def qualify_purchase(self, info: Info, input: QualifyPurchaseInput) -> QualifyPurchasePayload:
        return await qualify(info, input)
