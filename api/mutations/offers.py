"""Offers: admins create, pause, resume and archive them; merchants and members try a basket."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.mutations.purchases import MoneyInput
from api.permissions import ADMIN, AUTHENTICATED, MEMBER
from api.presented import presented_member, presented_secrets
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
from domain.experiments.model import Experiment, Variant
from domain.money import Money as DomainMoney
from domain.security import Secret
from domain.services.bonuses import open_red_packet
from domain.services.offers import (
    change_offer_status,
    claim_coupon,
    create_offer,
    generate_coupons,
    set_offer_experiment,
    update_offer,
)
from domain.services.purchases import qualify_purchase


@strawberry.input(description="One funder's share of an offer's cost.")
class FundingShareInput:
    kind: FunderKind = strawberry.field(description="Who pays this share.")
    funder_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The merchant or partner brand; omit for the programme."
    )
    percent: int = strawberry.field(description="Its share of the cost, 1 to 100; the shares add up to 100.")


@strawberry.input(description="Profile conditions; an empty list places no condition.")
class OfferSegmentInput:
    regions: list[str] = strawberry.field(description="Only members in these regions.", default_factory=list)
    income_bands: list[IncomeBand] = strawberry.field(
        description="Only members in these income bands.", default_factory=list
    )
    any_tags: list[str] = strawberry.field(
        description="Only members with at least one of these tags.", default_factory=list
    )
    born_from: int | None = strawberry.field(
        default=None, description="Only members born in this year or later."
    )
    born_to: int | None = strawberry.field(
        default=None, description="Only members born in this year or earlier."
    )


@strawberry.input(description="Omitted limits do not apply.")
class OfferLimitsInput:
    budget_points: int | None = strawberry.field(
        default=None, description="It stops once it has given this many points."
    )
    budget_money: MoneyInput | None = strawberry.field(
        default=None, description="It stops once it has given this much discount or cashback."
    )
    max_uses: int | None = strawberry.field(default=None, description="It stops after this many uses in all.")
    per_member: int | None = strawberry.field(
        default=None, description="Uses per member per perMemberPeriod."
    )
    per_member_period: CapPeriod = strawberry.field(
        default=do.CapPeriod.OFFER, description="The period perMember counts in."
    )


@strawberry.input(description="An offer's whole definition.")
class CreateOfferInput:
    name: str = strawberry.field(description="Its display name.")
    mechanic: Mechanic = strawberry.field(description="What the member gets.")
    starts_at: datetime = strawberry.field(description="When it starts applying.")
    ends_at: datetime = strawberry.field(description="When it stops applying.")
    funding: list[FundingShareInput] = strawberry.field(
        description="Who pays, in shares adding up to 100 percent."
    )
    time_zone: str = strawberry.field(
        default="Asia/Shanghai", description="The IANA zone its days and hours are read in."
    )
    days_of_week: list[int] = strawberry.field(
        description="ISO: 1 Monday .. 7 Sunday; empty: every day.", default_factory=list
    )
    from_hour: int | None = strawberry.field(
        default=None, description="Applies from this hour (0-23) on its days; null: all day."
    )
    to_hour: int | None = strawberry.field(
        default=None, description="Applies until this hour (exclusive); null: all day."
    )
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
    merchant_ids: list[relay.GlobalID] = strawberry.field(
        description="Only these merchants; empty: any.", default_factory=list
    )
    categories: list[MerchantCategory] = strawberry.field(
        description="Only merchants in these categories; empty: any.", default_factory=list
    )
    partner_ids: list[relay.GlobalID] = strawberry.field(
        description="Only merchants of these partner brands; empty: any.", default_factory=list
    )
    channels: list[Channel] = strawberry.field(
        description="Only purchases on these channels; empty: any.", default_factory=list
    )
    minimum_spend: MoneyInput | None = strawberry.field(
        default=None, description="Only purchases of at least this amount."
    )
    new_members_within_days: int | None = strawberry.field(
        default=None, description="Only members enrolled within this many days."
    )
    first_purchase: FirstPurchase | None = strawberry.field(
        default=None,
        description="Only a first purchase (ever, at the merchant, at the partner); once per member.",
    )
    segment: OfferSegmentInput | None = strawberry.field(
        default=None, description="Profile conditions on the member; omitted: none."
    )
    limits: OfferLimitsInput | None = strawberry.field(
        default=None, description="Budgets and use limits; omitted: none."
    )
    exclusive_group: str | None = strawberry.field(
        default=None, description="Offers sharing a group compete."
    )
    priority: int = strawberry.field(
        default=0, description="Higher first among discounts; breaks ties within an exclusiveGroup."
    )
    requires_coupon: bool = strawberry.field(
        default=False, description="Applies only with one of its coupons."
    )
    trigger: Trigger = strawberry.field(
        default=do.Trigger.PURCHASE,
        description="SIGN_UP: bonus points given once, at enrolment; CAMPAIGN: given by a trigger's action.",
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
    segment_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None,
        description="Only members of any of these ACTIVE segments, as last refreshed; omitted, null or "
        "empty: no segment condition. Changing them versions the offer like any edit.",
    )
    dormant_only: bool = strawberry.field(
        default=False,
        description="A win-back offer: only members dormant when the purchase begins (it wakes them).",
    )


@strawberry.input(description="An offer and its new definition.")
class UpdateOfferInput:
    offer_id: relay.GlobalID = strawberry.field(description="The offer's global id.")
    offer: CreateOfferInput = strawberry.field(description="The whole new definition: a new version.")


@strawberry.input(description="Either count single-use codes, or one shared code with a use limit.")
class GenerateCouponsInput:
    offer_id: relay.GlobalID = strawberry.field(description="The coupon-only offer.")
    count: int | None = strawberry.field(default=None, description="How many single-use codes to make.")
    shared_code: str | None = strawberry.field(default=None, description="Or one code many members may use.")
    max_uses: int | None = strawberry.field(
        default=None, description="With sharedCode: how many purchases may use it."
    )


@strawberry.type(description="The new coupons, or why none were made.")
class GenerateCouponsPayload:
    coupons: list[Coupon] = strawberry.field(description="Empty when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The coupon to claim.")
class ClaimCouponInput:
    code: str = strawberry.field(description="The coupon's code.")


@strawberry.type(description="The claimed coupon, or why nothing changed.")
class ClaimCouponPayload:
    coupon: Coupon | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A red packet's code.")
class OpenRedPacketInput:
    code: str = strawberry.field(description="The red packet's code.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The points given, or why nothing changed.")
class OpenRedPacketPayload:
    points: int | None = strawberry.field(description="The points the red packet gave.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


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


@strawberry.type(description="The offer's new version with its experiment, or why nothing changed.")
class SetOfferExperimentPayload(OfferPayload):
    pass


@strawberry.input(description="A variant: its key and weight, and what it changes (ADMIN).")
class OfferVariantInput:
    key: str = strawberry.field(description="Its name in reports, unique in the experiment; not 'holdout'.")
    weight: int = strawberry.field(description="Its share of the non-holdout members, relative; positive.")
    name: str | None = strawberry.field(
        default=None, description="The message: the offer's name in this arm; omitted: unchanged."
    )
    points: int | None = strawberry.field(default=None, description="BONUS_POINTS offers: the points.")
    multiplier: Decimal | None = strawberry.field(
        default=None, description="POINTS_MULTIPLIER offers: the factor."
    )
    percent: Decimal | None = strawberry.field(
        default=None, description="PERCENT_DISCOUNT and cashback offers: the percentage."
    )
    amount: MoneyInput | None = strawberry.field(
        default=None, description="INSTANT_DISCOUNT and SPEND_AND_SAVE offers: the amount off."
    )


@strawberry.input(description="An experiment: a holdout share and variants (ADMIN).")
class OfferExperimentInput:
    holdout_share: int = strawberry.field(
        description="Basis points of members (0 to 5000) who are not offered it: the control."
    )
    variants: list[OfferVariantInput] = strawberry.field(
        description="1 to 10 variants; they split the other members by weight."
    )
    margin_rate: int = strawberry.field(
        default=0, description="The gross margin on spend, in basis points, that the report's ROI counts."
    )


@strawberry.input(description="The offer and its experiment; null ends the experiment (ADMIN).")
class SetOfferExperimentInput:
    offer_id: relay.GlobalID = strawberry.field(description="The purchase offer.")
    experiment: OfferExperimentInput | None = strawberry.field(
        description="The experiment; null: none. New keys, weights or holdout begin a new experiment."
    )


def _experiment_from(input: OfferExperimentInput | None) -> Experiment | None:
    if input is None:
        return None
    return Experiment(
        id=0,
        started_at=datetime.min.replace(tzinfo=UTC),  # set by the use case
        holdout_bp=input.holdout_share,
        margin_bp=input.margin_rate,
        variants=tuple(
            Variant(
                key=v.key,
                weight=v.weight,
                name=v.name,
                points=v.points,
                multiplier=v.multiplier,
                percent=v.percent,
                amount=_money(v.amount),
            )
            for v in input.variants
        ),
    )


P = TypeVar("P", bound=OfferPayload)


@strawberry.input(description="A basket to try against the live offers.")
class QualifyPurchaseInput:
    amount: MoneyInput = strawberry.field(description="What the basket costs.")
    member_code: str | None = strawberry.field(
        default=None,
        description="MERCHANT: the one-time code the member's wallet shows (checked, not used up).",
    )
    member_ref: str | None = strawberry.field(
        default=None, description="MERCHANT: the reference the member's link to this merchant gave it."
    )
    member_id: relay.GlobalID | None = strawberry.field(default=None, description="PROCESSOR: the member.")
    member_external_ref: str | None = strawberry.field(
        default=None, description="PROCESSOR: the member's externalRef."
    )
    merchant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Required for a MEMBER or a PROCESSOR: the merchant of the basket."
    )
    channel: Channel | None = strawberry.field(
        default=None, description="Online or in store; omitted: from the merchant."
    )


@strawberry.type(description="What postPurchase would give this basket now; nothing is written.")
class Qualification:
    amount: Money = strawberry.field(description="The basket's amount.")
    paid: Money = strawberry.field(description="What the member would pay after the discounts.")
    base_points: int = strawberry.field(description="Points at the base rate, before offers.")
    total_points: int = strawberry.field(description="Points in all, with the offers.")
    applied_offers: list[OfferAward] = strawberry.field(description="What each applying offer would give.")
    skipped: list[OfferSkip] = strawberry.field(description="Live offers that would not apply, and why.")
    available_points: int | None = strawberry.field(
        description="The member's spendable points: for the MEMBER itself, and for a MERCHANT at checkout "
        "with the member's one-time code (memberCode); null otherwise."
    )
    member_id: strawberry.Private[int]
    presented_by_code: strawberry.Private[bool]


@strawberry.type(description="What the basket would get, or why it cannot be answered.")
class QualifyPurchasePayload:
    qualification: Qualification | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why there is no answer; empty on success.")


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
            segment_ids=None
            if input.segment_ids is None
            else frozenset(decode_id(i, "Segment", "segmentIds") for i in input.segment_ids),
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


QUALIFY_PURCHASE = (
    "A dry run of postPurchase's offers for a basket: a MERCHANT names the member that presented itself "
    "(its code or its link), a PROCESSOR the member and the merchant, a MEMBER the merchant "
    "(authenticated; other roles are refused)."
)


async def qualify(info: Info, input: QualifyPurchaseInput) -> QualifyPurchasePayload:
    """Query.qualifyPurchase and the deprecated mutation: it writes nothing, so it reads through the
    read pool, never queueing for the writer."""

    def command() -> commands.QualifyPurchase:
        return commands.QualifyPurchase(
            amount=DomainMoney(input.amount.amount_minor, input.amount.currency),
            member=presented_member(input),
            merchant_id=None
            if input.merchant_id is None
            else decode_id(input.merchant_id, "Merchant", "merchantId"),
            channel=input.channel,
        )

    result, errors = await run_use_case(
        info,
        lambda actor, uow, clock: qualify_purchase(command(), actor=actor, uow=uow, clock=clock),
        reads_only=True,
        guessing=presented_secrets(input),
    )
    if result is None:
        return QualifyPurchasePayload(qualification=None, errors=errors)
    qualified, evaluation = result, result.evaluation
    currency = evaluation.amount.currency
    return QualifyPurchasePayload(
        qualification=Qualification(
            amount=Money(amount_minor=evaluation.amount.amount_minor, currency=currency),
            paid=Money(amount_minor=evaluation.paid.amount_minor, currency=currency),
            base_points=evaluation.base_points,
            total_points=evaluation.total_points,
            applied_offers=[OfferAward.from_domain(a, currency) for a in evaluation.awards],
            skipped=[
                OfferSkip(offer_id=encode_id("Offer", skip.offer_id), reason=skip.reason)
                for skip in evaluation.skipped
            ],
            available_points=qualified.available_points,
            member_id=qualified.member_id,
            presented_by_code=qualified.presented_by_code,
        ),
        errors=[],
    )


@strawberry.type
class OfferMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Create an offer; it is live inside its window (ADMIN)."
    )
    async def create_offer(
        self,
        info: Info,
        input: Annotated[CreateOfferInput, strawberry.argument(description="The offer's definition.")],
    ) -> CreateOfferPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: create_offer(_offer_from(input), actor=actor, uow=uow, clock=clock),
        )
        return CreateOfferPayload(offer=Offer.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Replace an offer's definition with a new version; purchases keep what they got (ADMIN).",
    )
    async def update_offer(
        self,
        info: Info,
        input: Annotated[
            UpdateOfferInput, strawberry.argument(description="The offer and its new definition.")
        ],
    ) -> UpdateOfferPayload:
        def changed() -> do.Offer:
            offer_id = decode_id(input.offer_id, "Offer", "offerId")
            return replace(_offer_from(input.offer), id=offer_id)

        result, errors = await run_use_case(
            info, lambda actor, uow, clock: update_offer(changed(), actor=actor, uow=uow, clock=clock)
        )
        return UpdateOfferPayload(offer=Offer.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Give a purchase offer an experiment (variants and a holdout), change it or end it: "
        "a new version of the offer, audited (ADMIN).",
    )
    async def set_offer_experiment(
        self,
        info: Info,
        input: Annotated[
            SetOfferExperimentInput, strawberry.argument(description="The offer and its experiment.")
        ],
    ) -> SetOfferExperimentPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: set_offer_experiment(
                decode_id(input.offer_id, "Offer", "offerId"),
                _experiment_from(input.experiment),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return SetOfferExperimentPayload(offer=Offer.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(permission_classes=ADMIN, description="Codes for a coupon-only offer (ADMIN).")
    async def generate_coupons(
        self,
        info: Info,
        input: Annotated[
            GenerateCouponsInput, strawberry.argument(description="The offer and the codes to make.")
        ],
    ) -> GenerateCouponsPayload:
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
        permission_classes=MEMBER, description="Put a single-use coupon in the caller's wallet (MEMBER)."
    )
    async def claim_coupon(
        self,
        info: Info,
        input: Annotated[ClaimCouponInput, strawberry.argument(description="The coupon's code.")],
    ) -> ClaimCouponPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: claim_coupon(input.code, actor=actor, uow=uow, clock=clock),
            guessing={"code": Secret.COUPON_CODE},
        )
        return ClaimCouponPayload(coupon=Coupon.from_domain(result) if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBER, description="Open a red packet with its code: its points, once (MEMBER)."
    )
    async def open_red_packet(
        self,
        info: Info,
        input: Annotated[OpenRedPacketInput, strawberry.argument(description="The red packet's code.")],
    ) -> OpenRedPacketPayload:
        command = commands.OpenRedPacket(code=input.code, idempotency_key=input.idempotency_key)
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: open_red_packet(command, actor=actor, uow=uow, clock=clock),
            guessing={"code": Secret.RED_PACKET_CODE},
        )
        return OpenRedPacketPayload(points=result.points if result else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Stop applying an offer until resumed (ADMIN)."
    )
    async def pause_offer(
        self,
        info: Info,
        input: Annotated[PauseOfferInput, strawberry.argument(description="The offer to pause.")],
    ) -> PauseOfferPayload:
        return await _set_status(info, input, do.OfferStatus.PAUSED, PauseOfferPayload)

    @strawberry.mutation(permission_classes=ADMIN, description="Apply a paused offer again (ADMIN).")
    async def resume_offer(
        self,
        info: Info,
        input: Annotated[ResumeOfferInput, strawberry.argument(description="The offer to resume.")],
    ) -> ResumeOfferPayload:
        return await _set_status(info, input, do.OfferStatus.ACTIVE, ResumeOfferPayload)

    @strawberry.mutation(permission_classes=ADMIN, description="End an offer for good (ADMIN).")
    async def archive_offer(
        self,
        info: Info,
        input: Annotated[ArchiveOfferInput, strawberry.argument(description="The offer to archive.")],
    ) -> ArchiveOfferPayload:
        return await _set_status(info, input, do.OfferStatus.ARCHIVED, ArchiveOfferPayload)

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description=QUALIFY_PURCHASE,
        deprecation_reason="Use Query.qualifyPurchase; it writes nothing.",
    )
    async def qualify_purchase(
        self,
        info: Info,
        input: Annotated[QualifyPurchaseInput, strawberry.argument(description="The basket.")],
    ) -> QualifyPurchasePayload:
        return await qualify(info, input)


@strawberry.type
class OfferQueries:
    @strawberry.field(permission_classes=AUTHENTICATED, description=QUALIFY_PURCHASE)
    async def qualify_purchase(
        self,
        info: Info,
        input: Annotated[QualifyPurchaseInput, strawberry.argument(description="The basket.")],
    ) -> QualifyPurchasePayload:
        return await qualify(info, input)
